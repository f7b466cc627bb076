// Forward and backward pass of the MLP (batch as columns), side by side.
#include "nn/model.hpp"

#include <algorithm>

#include "base/errors.hpp"

namespace gradflow {

long MlpLayout::max_width() const {
  long w = inputs;
  for (const LayerShape& s : layers) w = std::max(w, s.fan_out);
  return w;
}

MlpLayout make_layout(long inputs, const std::vector<long>& hidden_widths, long outputs) {
  MlpLayout layout;
  layout.inputs = inputs;
  layout.outputs = outputs;
  long fan_in = inputs;
  std::size_t offset = 0;
  auto add = [&](long fan_out) {
    LayerShape s;
    s.fan_in = fan_in;
    s.fan_out = fan_out;
    s.w_offset = offset;
    s.b_offset = offset + std::size_t(fan_in) * std::size_t(fan_out);
    offset = s.b_offset + std::size_t(fan_out);
    layout.layers.push_back(s);
    fan_in = fan_out;
  };
  for (long width : hidden_widths) add(width);
  add(outputs);
  layout.parameter_count = offset;
  return layout;
}

template <class T>
Eigen::Map<const Mat<T>> Mlp<T>::w(long l) const {
  const LayerShape& s = layout.layers[std::size_t(l)];
  return Eigen::Map<const Mat<T>>(params.data() + s.w_offset, s.fan_out, s.fan_in);
}
template <class T>
Eigen::Map<const Vec<T>> Mlp<T>::b(long l) const {
  const LayerShape& s = layout.layers[std::size_t(l)];
  return Eigen::Map<const Vec<T>>(params.data() + s.b_offset, s.fan_out);
}
template <class T>
Eigen::Map<const Mat<T>> Mlp<T>::dw(long l) const {
  const LayerShape& s = layout.layers[std::size_t(l)];
  return Eigen::Map<const Mat<T>>(grads.data() + s.w_offset, s.fan_out, s.fan_in);
}
template <class T>
Eigen::Map<const Vec<T>> Mlp<T>::db(long l) const {
  const LayerShape& s = layout.layers[std::size_t(l)];
  return Eigen::Map<const Vec<T>>(grads.data() + s.b_offset, s.fan_out);
}

template <class T>
Mlp<T> make_mlp(const MlpLayout& layout, const ActivationSpec& activation) {
  Mlp<T> mlp;
  mlp.layout = layout;
  mlp.activation = activation;
  mlp.params = Vec<T>::Zero(Eigen::Index(layout.parameter_count));
  // Not zeroed: backward writes every gradient before anything reads one, and untouched
  // pages cost no memory until then (the caller may still hold a copy of the parameters).
  mlp.grads = Vec<T>(Eigen::Index(layout.parameter_count));
  return mlp;
}

template <class T>
void set_parameters(Mlp<T>& mlp, const Parameters& p) {
  GF_ASSERT(long(p.w.size()) == mlp.layout.num_layers() && p.b.size() == p.w.size());
  for (long l = 0; l < mlp.layout.num_layers(); ++l) {
    mlp.w(l) = p.w[std::size_t(l)].cast<T>();
    mlp.b(l) = p.b[std::size_t(l)].cast<T>();
  }
}

template <class T>
Parameters get_parameters(const Mlp<T>& mlp) {
  Parameters p;
  for (long l = 0; l < mlp.layout.num_layers(); ++l) {
    p.w.push_back(mlp.w(l).template cast<double>());
    p.b.push_back(mlp.b(l).template cast<double>());
  }
  return p;
}

template <class T>
Workspace<T> make_workspace(const MlpLayout& layout, long batch) {
  Workspace<T> ws;
  ws.input = Mat<T>::Zero(layout.inputs, batch);
  const std::size_t n = layout.layers.size();
  for (std::size_t l = 0; l < n; ++l) {
    const long units = layout.layers[l].fan_out;
    ws.z.push_back(Mat<T>::Zero(units, batch));
    ws.delta.push_back(Mat<T>::Zero(units, batch));
    if (l + 1 < n) {
      ws.a.push_back(Mat<T>::Zero(units, batch));
      ws.dphi.push_back(Mat<T>::Zero(units, batch));
    }
  }
  return ws;
}

template <class T>
void mlp_forward(const Mlp<T>& mlp, Workspace<T>& ws) {
  const long n = mlp.layout.num_layers();
  for (long l = 0; l < n; ++l) {
    const std::size_t i = std::size_t(l);
    const Mat<T>& in = l == 0 ? ws.input : ws.a[i - 1];
    // z_l = W_l a_{l-1} + b_l  (fan_out, batch)
    ws.z[i].noalias() = mlp.w(l) * in;
    ws.z[i].colwise() += mlp.b(l);
    if (l + 1 < n) activate<T>(mlp.activation, ws.z[i], ws.a[i], &ws.dphi[i]);
  }
}

template <class T>
void mlp_backward(Mlp<T>& mlp, Workspace<T>& ws, double* delta_squares) {
  const long n = mlp.layout.num_layers();
  if (delta_squares) {
    const Mat<T>& out = ws.delta.back();
    delta_squares[n - 1] = squared_norm_wide(out.data(), std::size_t(out.size()));
  }
  for (long l = n - 1; l >= 0; --l) {
    const std::size_t i = std::size_t(l);
    const Mat<T>& in = l == 0 ? ws.input : ws.a[i - 1];
    // dW_l = delta_l a_{l-1}^T  (fan_out, fan_in);  db_l = sum over the batch of delta_l
    mlp.dw(l).noalias() = ws.delta[i] * in.transpose();
    mlp.db(l).noalias() = ws.delta[i].rowwise().sum();
    if (l == 0) break;
    // delta_{l-1} = (W_l^T delta_l) * phi'(z_{l-1})
    Mat<T>& prev = ws.delta[i - 1];
    prev.noalias() = mlp.w(l).transpose() * ws.delta[i];
    prev.array() *= ws.dphi[i - 1].array();
    // Measured now, while it is in cache.
    if (delta_squares) delta_squares[l - 1] = squared_norm_wide(prev.data(), std::size_t(prev.size()));
  }
}

#define GRADFLOW_INSTANTIATE(T)                                                    \
  template struct Mlp<T>;                                                          \
  template Mlp<T> make_mlp<T>(const MlpLayout&, const ActivationSpec&);            \
  template Workspace<T> make_workspace<T>(const MlpLayout&, long);                 \
  template void set_parameters<T>(Mlp<T>&, const Parameters&);                     \
  template Parameters get_parameters<T>(const Mlp<T>&);                            \
  template void mlp_forward<T>(const Mlp<T>&, Workspace<T>&);                      \
  template void mlp_backward<T>(Mlp<T>&, Workspace<T>&, double*);
GRADFLOW_INSTANTIATE(float)
GRADFLOW_INSTANTIATE(double)
#undef GRADFLOW_INSTANTIATE

}  // namespace gradflow
