// The fully connected network: all parameters in one flat buffer with per-layer views (so the
// optimizer is one loop), a preallocated batch workspace, and forward/backward as a pair.
// Shapes: W_l is (fan_out, fan_in), b_l is (fan_out), batches are (features, batch) columns.
#pragma once

#include <cstddef>
#include <vector>

#include "nn/activation.hpp"
#include "nn/numeric.hpp"

namespace gradflow {

// Where layer l's tensors live in the flat buffer: [W_1, b_1, W_2, b_2, ...].
struct LayerShape {
  long fan_in = 0;
  long fan_out = 0;
  std::size_t w_offset = 0;  // W_l, column-major
  std::size_t b_offset = 0;  // b_l, directly after W_l
};

struct MlpLayout {
  long inputs = 0;
  long outputs = 0;
  std::vector<LayerShape> layers;  // hidden layers then the output layer
  std::size_t parameter_count = 0;
  long num_layers() const { return static_cast<long>(layers.size()); }
  long max_width() const;
};

MlpLayout make_layout(long inputs, const std::vector<long>& hidden_widths, long outputs);

template <class T>
struct Mlp {
  MlpLayout layout;
  ActivationSpec activation;  // every hidden layer; the output layer is linear
  Vec<T> params;              // (parameter_count)
  Vec<T> grads;               // (parameter_count), same layout: dW_l, db_l

  MatMap<T> w(long l) { return view(params, l); }
  VecMap<T> b(long l) { return bias_view(params, l); }
  MatMap<T> dw(long l) { return view(grads, l); }
  VecMap<T> db(long l) { return bias_view(grads, l); }
  Eigen::Map<const Mat<T>> w(long l) const;
  Eigen::Map<const Vec<T>> b(long l) const;
  Eigen::Map<const Mat<T>> dw(long l) const;
  Eigen::Map<const Vec<T>> db(long l) const;

 private:
  MatMap<T> view(Vec<T>& buffer, long l) {
    const LayerShape& s = layout.layers[std::size_t(l)];
    return MatMap<T>(buffer.data() + s.w_offset, s.fan_out, s.fan_in);
  }
  VecMap<T> bias_view(Vec<T>& buffer, long l) {
    const LayerShape& s = layout.layers[std::size_t(l)];
    return VecMap<T>(buffer.data() + s.b_offset, s.fan_out);
  }
};

template <class T>
Mlp<T> make_mlp(const MlpLayout& layout, const ActivationSpec& activation);

// Parameters in double, one tensor per layer: the exchange format for initial values,
// saved .npy files and tests, independent of the run's precision.
struct Parameters {
  std::vector<MatD> w;  // w[l]: (fan_out, fan_in)
  std::vector<VecD> b;  // b[l]: (fan_out)
};

template <class T>
void set_parameters(Mlp<T>& mlp, const Parameters& p);
template <class T>
Parameters get_parameters(const Mlp<T>& mlp);

// Buffers for one batch size, allocated once so a training step does no heap allocation.
template <class T>
struct Workspace {
  Mat<T> input;               // (inputs, batch)
  std::vector<Mat<T>> z;      // z_l = W_l a_{l-1} + b_l, (fan_out_l, batch); last = logits
  std::vector<Mat<T>> a;      // a_l = phi(z_l), hidden layers only
  std::vector<Mat<T>> dphi;   // phi'(z_l), hidden layers only
  std::vector<Mat<T>> delta;  // dL/dz_l of the batch-mean loss, (fan_out_l, batch)
  long batch() const { return input.cols(); }
};

template <class T>
Workspace<T> make_workspace(const MlpLayout& layout, long batch);

// z and a for every layer from ws.input.
template <class T>
void mlp_forward(const Mlp<T>& mlp, Workspace<T>& ws);

// Given ws.delta.back() = dL/dlogits, fills ws.delta for every layer and mlp.grads. With
// `delta_squares` (one slot per layer) it also stores squared_norm_wide(ws.delta[l]), computed
// as delta is formed (a logged step's delta_norm without another pass over it).
template <class T>
void mlp_backward(Mlp<T>& mlp, Workspace<T>& ws, double* delta_squares = nullptr);

}  // namespace gradflow
