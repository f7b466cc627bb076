// A network: a list of layers (nn/layers/layer_spec.hpp) with all parameters in one flat
// buffer and per-tensor views (so the optimizer is one loop), workspaces sized once per batch
// size, and one forward and one backward that training, the probe pass and the gradient
// tests all call. Each layer kind's forward/backward pair lives in nn/layers/<kind>.cpp.
// Shapes: every tensor is (units, batch), batch as columns; W is (fan_out, fan_in). A conv
// activation is (C H W, batch) in the same layout (layer_spec.hpp's Shape), and a conv kernel
// is W (C_out, C_in k k), so fan_in = C_in k k for every initializer.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "nn/layers/layer_spec.hpp"
#include "nn/numeric.hpp"

namespace gradflow {

inline constexpr std::size_t kNoOffset = std::size_t(-1);

// What a layers.csv row describes (its `kind` column).
enum class RowKind { dense, output, projection, batch_norm, layer_norm, prelu, residual, conv2d };
inline constexpr std::size_t kRowKindCount = 8;
std::string_view row_kind_name(RowKind k);

// One parameter tensor: its place in the flat buffer and its .npy name ("W3", "gamma2").
struct ParamTensor {
  std::string name;  // <W|b|gamma|beta|slope|alpha|P><row>, row = layers.csv's `layer`
  long rows = 0, cols = 1;
  std::size_t offset = 0;
  int row = -1;       // the layers.csv row (0-based) that reports it
  bool main = true;   // the row's weight-like tensor (grad_w_norm, weight_norm, update_ratio);
                      // false: its bias-like one (grad_b_norm, bias_norm)
  std::size_t size() const { return std::size_t(rows) * std::size_t(cols); }
};

// One layers.csv row: a layer that has parameters or feeds an activation.
struct RowInfo {
  RowKind kind = RowKind::dense;
  long fan_in = 0, fan_out = 0;
  int main_tensor = -1, bias_tensor = -1;  // into NetworkLayout::tensors
  int layer_id = -1;                       // the Layer it describes
};

struct Layer {
  LayerKind kind = LayerKind::dense;
  int id = 0;        // pre-order index over the whole tree: Workspace::at[id]
  int row = -1;      // layers.csv row, -1 for layers without one (activations)
  int act_row = -1;  // activation/prelu: the row whose output it reads (its statistics go there)
  long in_units = 0, out_units = 0;  // in_shape.size(), out_shape.size()
  Shape in_shape, out_shape;
  bool output = false;  // the network's last dense layer (linear, to the data's outputs)
  // Offsets into the flat parameter buffer (kNoOffset when absent):
  std::size_t w = kNoOffset;  // dense W (out, in); conv W (C_out, C_in k k); norm gamma
                              // (per channel); prelu slopes; residual alpha
  std::size_t b = kNoOffset;  // dense b; conv b (C_out); norm beta
  std::size_t projection = kNoOffset;  // residual: P (out, in) on the skip when widths differ
  int projection_row = -1;
  std::size_t state = kNoOffset;  // batch_norm: running mean (C) then running var (C)
  ActivationSpec activation;      // activation
  double momentum = 0.1;          // batch_norm
  bool affine = true;             // norms
  ResidualScale scale_kind = ResidualScale::constant;
  double scale = 1.0;             // residual: the resolved constant scale (not rezero)
  std::vector<Layer> body;        // residual
  long kernel = 0, stride = 1;    // conv2d, max_pool, avg_pool
  Padding padding = Padding::valid;  // conv2d
  long pad = 0;                   // conv2d: zeros (or wrapped rows) before the first row/column
};

struct NetworkLayout {
  long inputs = 0;
  Shape input_shape;  // (inputs, 1, 1) unless the data are images
  long outputs = 0;
  std::vector<Layer> layers;  // the output layer last
  std::vector<ParamTensor> tensors;  // in flat-buffer order (= forward order)
  std::vector<RowInfo> rows;         // layers.csv rows in forward order
  std::size_t parameter_count = 0;
  std::size_t state_count = 0;  // batch-norm running statistics
  int layer_count = 0;          // ids 0..layer_count-1
  long max_width = 0;           // largest tensor height, inputs included
  bool plain_mlp = true;        // only dense layers and fixed activations, alternating
  std::vector<LayerSpec> specs; // the hidden stack it was built from
  long num_rows() const { return long(rows.size()); }
};

// Builds the layout for `hidden` (the expanded model.layers) between `inputs` features and
// `outputs` (a dense output layer is appended). Shapes are checked by the config; a spec
// the config should have refused is an assertion.
NetworkLayout make_network_layout(long inputs, const std::vector<LayerSpec>& hidden, long outputs);
NetworkLayout make_network_layout(Shape input, const std::vector<LayerSpec>& hidden, long outputs);

// A conv2d or pool's output size along one axis of `size` positions.
long conv_output_size(long size, long kernel, long stride, Padding padding);

// The plain MLP of today's shorthand: dense(width) + activation per hidden layer.
NetworkLayout make_mlp_layout(long inputs, const std::vector<long>& widths, long outputs,
                              const ActivationSpec& activation);

template <class T>
struct Network {
  NetworkLayout layout;
  Vec<T> params;  // (parameter_count)
  Vec<T> grads;   // (parameter_count), same layout: d<tensor>
  Vec<T> state;   // (state_count): batch-norm running mean and variance, not trained

  MatMap<T> tensor(std::size_t t) { return view(params, t); }
  MatMap<T> dtensor(std::size_t t) { return view(grads, t); }
  Eigen::Map<const Mat<T>> tensor(std::size_t t) const { return cview(params, t); }
  Eigen::Map<const Mat<T>> dtensor(std::size_t t) const { return cview(grads, t); }

 private:
  MatMap<T> view(Vec<T>& v, std::size_t t) {
    const ParamTensor& p = layout.tensors[t];
    return MatMap<T>(v.data() + p.offset, p.rows, p.cols);
  }
  Eigen::Map<const Mat<T>> cview(const Vec<T>& v, std::size_t t) const {
    const ParamTensor& p = layout.tensors[t];
    return Eigen::Map<const Mat<T>>(v.data() + p.offset, p.rows, p.cols);
  }
};

template <class T>
Network<T> make_network(const NetworkLayout& layout);

// Parameters in double, one matrix per tensor in NetworkLayout::tensors order: the exchange
// format for initial values, saved .npy files and tests, independent of the run's precision.
struct Parameters {
  std::vector<MatD> tensors;
};

template <class T>
void set_parameters(Network<T>& net, const Parameters& p);
template <class T>
Parameters get_parameters(const Network<T>& net);

// Which buffers of Workspace::storage a layer uses (-1: none).
struct LayerBuffers {
  int out = -1;    // (out_units, batch)
  int dout = -1;   // dL/d out; an activation shares its input's (backward runs in place)
  int cache = -1;  // activation, prelu: phi'(in); norms: the normalized input x_hat;
                   // conv2d: a chunk's patches (m H' W', C_in k k); max_pool: argmax;
                   // dense (training, small shapes): W^T (in, out) for backward
  int stat = -1;   // batch_norm: 1/sigma per unit (units, 3), (units, 4) per channel;
                   // layer_norm: per example (3, batch); conv2d: one example's dout
                   // patches (conv2d_scratch)
  int flipped = -1;  // conv2d: the input-gradient convolution's flipped kernel
  int padded = -1;   // conv2d (training, conv2d_keeps_padded_input): each example's padded
                     // input planes, from forward to the weight gradient
};

enum class Pass {
  train,  // batch norm normalizes with the batch's statistics and updates the running ones
  eval,   // batch norm uses the running statistics (the probe pass)
};

// Buffers for one batch size, allocated once so a step does no heap allocation. A training
// workspace keeps every layer's output for backward; an eval workspace keeps only what the
// forward pass still needs (two buffers per width and nesting level), so a probe pass over
// 512 examples costs O(width x probe size), not O(depth x width x probe size).
template <class T>
struct Workspace {
  Pass pass = Pass::train;
  Mat<T> input;   // (inputs, batch)
  Mat<T> dinput;  // dL/d input, only when asked for (gradient tests)
  std::vector<Mat<T>> storage;
  std::vector<LayerBuffers> at;  // by Layer::id
  long batch() const { return input.cols(); }

  Mat<T>& out(const Layer& l) { return storage[std::size_t(at[std::size_t(l.id)].out)]; }
  const Mat<T>& out(const Layer& l) const { return storage[std::size_t(at[std::size_t(l.id)].out)]; }
  Mat<T>& dout(const Layer& l) { return storage[std::size_t(at[std::size_t(l.id)].dout)]; }
  const Mat<T>& dout(const Layer& l) const { return storage[std::size_t(at[std::size_t(l.id)].dout)]; }
  Mat<T>& cache(const Layer& l) { return storage[std::size_t(at[std::size_t(l.id)].cache)]; }
  const Mat<T>& cache(const Layer& l) const { return storage[std::size_t(at[std::size_t(l.id)].cache)]; }
  Mat<T>& stat(const Layer& l) { return storage[std::size_t(at[std::size_t(l.id)].stat)]; }
  Mat<T>& flipped(const Layer& l) { return storage[std::size_t(at[std::size_t(l.id)].flipped)]; }
  // conv2d's kept padded inputs, or null when it pads again in backward.
  Mat<T>* padded(const Layer& l) {
    const int i = at[std::size_t(l.id)].padded;
    return i < 0 ? nullptr : &storage[std::size_t(i)];
  }
  const Mat<T>& stat(const Layer& l) const { return storage[std::size_t(at[std::size_t(l.id)].stat)]; }
};

template <class T>
Workspace<T> make_workspace(const NetworkLayout& layout, long batch, Pass pass,
                            bool input_gradient = false);

// The network's outputs (logits) after network_forward, and where backward starts.
template <class T>
const Mat<T>& logits(const NetworkLayout& layout, const Workspace<T>& ws) {
  return ws.out(layout.layers.back());
}
template <class T>
Mat<T>& dlogits(const NetworkLayout& layout, Workspace<T>& ws) {
  return ws.dout(layout.layers.back());
}

// Called after each layer's forward (probe statistics): `in` is what the layer read.
template <class T>
struct LayerObserver {
  virtual void after_forward(const Layer& layer, const Mat<T>& in, Workspace<T>& ws) = 0;
  virtual ~LayerObserver() = default;
};

// Every layer's output from ws.input. A train pass also updates batch-norm running statistics
// (hence the non-const network).
template <class T>
void network_forward(Network<T>& net, Workspace<T>& ws, LayerObserver<T>* observer = nullptr);

// Given dlogits = dL/dlogits, fills every layer's dout, net.grads and (if allocated)
// ws.dinput. With `row_delta_squares` (one slot per row) it also stores the squared norm of
// each row's output gradient, taken while it is in cache.
template <class T>
void network_backward(Network<T>& net, Workspace<T>& ws, double* row_delta_squares = nullptr);

}  // namespace gradflow
