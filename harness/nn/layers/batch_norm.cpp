// batch_norm over the batch, per unit (Ioffe & Szegedy 2015, Algorithm 1 and section 3.1's
// backward; running statistics as PyTorch's BatchNorm1d). After a conv, per channel over the
// batch and the channel's positions (section 3.2; PyTorch's BatchNorm2d).
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"
#include "nn/layers/norm_affine.hpp"

namespace gradflow {
namespace {

// Per channel of a (C P) vector of per-row values: `channel` (C) = the mean over the channel's
// P rows, and each row then holds its channel's value.
template <class T, class V, class C>
void channel_mean(V&& rows, C&& channel, long positions) {
  MatMap<T> m(rows.data(), positions, channel.size());  // (P, C)
  channel.noalias() = m.colwise().mean().transpose();
  m.rowwise() = channel.transpose();
}
template <class T, class V, class C>
void spread(V&& rows, const C& channel, long positions) {
  MatMap<T>(rows.data(), positions, channel.size()).rowwise() = channel.transpose();
}

// Per channel: x_hat (C P, batch); stat (C P, 4): 1/sigma per row, two columns of scratch
// (gamma and beta per row in forward), and the first C entries of the last for one channel's
// values. Dense batch norm is this with P = 1, kept separate so its arithmetic is unchanged.
template <class T>
void spatial_forward(const Layer& l, const T* params, T* state, Pass pass, const Mat<T>& in,
                     Mat<T>& out, Mat<T>& x_hat, Mat<T>& stat) {
  const long c = l.out_shape.c, positions = l.out_shape.positions();
  const T eps = T(kNormEpsilon);
  VecMap<T> running_mean(state + l.state, c), running_var(state + l.state + c, c);
  auto inv_std = stat.col(0);
  auto mean = stat.col(1);
  auto var = stat.col(2);
  auto channel = stat.col(3).head(c);
  if (pass == Pass::train) {
    const double n = double(in.cols()) * double(positions);
    const T m = T(l.momentum);
    const T unbias = n > 1 ? T(n / (n - 1)) : T(1);
    mean.noalias() = in.rowwise().mean();
    channel_mean<T>(mean, channel, positions);
    running_mean = (T(1) - m) * running_mean + m * channel;
    x_hat.noalias() = in.colwise() - mean;
    var.noalias() = x_hat.array().square().matrix().rowwise().mean();
    channel_mean<T>(var, channel, positions);  // biased
    running_var = (T(1) - m) * running_var + (m * unbias) * channel;
    inv_std.array() = (var.array() + eps).rsqrt();
  } else {
    channel.array() = (running_var.array() + eps).rsqrt();
    spread<T>(inv_std, channel, positions);
    spread<T>(mean, running_mean, positions);
    x_hat.noalias() = in.colwise() - mean;
  }
  x_hat.array().colwise() *= inv_std.array();
  auto gamma_rows = stat.col(1), beta_rows = stat.col(2);  // the statistics are done with
  if (l.affine) {
    spread<T>(gamma_rows, Eigen::Map<const Vec<T>>(params + l.w, c), positions);
    spread<T>(beta_rows, Eigen::Map<const Vec<T>>(params + l.b, c), positions);
  }
  norm_affine_forward<T>(l.affine ? gamma_rows.data() : nullptr, beta_rows.data(), x_hat, out);
}

template <class T>
void spatial_backward(const Layer& l, const T* params, T* grads, const Mat<T>& x_hat,
                      Mat<T>& stat, const Mat<T>& dout, Mat<T>* din) {
  const long c = l.out_shape.c, positions = l.out_shape.positions();
  auto inv_std = stat.col(0);
  auto a = stat.col(1);
  auto b = stat.col(2);
  auto channel = stat.col(3).head(c);
  if (l.affine) {  // per row first, then summed over each channel's positions
    norm_affine_param_grads<T>(dout, x_hat, a.data(), b.data());
    VecMap<T>(grads + l.w, c).noalias() = MatMap<T>(a.data(), positions, c).colwise().sum().transpose();
    VecMap<T>(grads + l.b, c).noalias() = MatMap<T>(b.data(), positions, c).colwise().sum().transpose();
  }
  if (!din) return;
  if (l.affine) spread<T>(a, Eigen::Map<const Vec<T>>(params + l.w, c), positions);  // gamma per row
  norm_affine_input_grad<T>(l.affine ? a.data() : nullptr, dout, *din);
  a.noalias() = din->rowwise().mean();
  channel_mean<T>(a, channel, positions);  // mean(g) over the channel
  b.noalias() = (din->array() * x_hat.array()).matrix().rowwise().mean();
  channel_mean<T>(b, channel, positions);  // mean(g x_hat)
  din->array() =
      ((din->array().colwise() - a.array()) - x_hat.array().colwise() * b.array()).colwise() *
      inv_std.array();
}

}  // namespace

template <class T>
void batch_norm_forward(const Layer& l, const T* params, T* state, Pass pass, const Mat<T>& in,
                        Mat<T>& out, Mat<T>& x_hat, Mat<T>& stat) {
  if (l.out_shape.positions() > 1)
    return spatial_forward(l, params, state, pass, in, out, x_hat, stat);
  const long units = l.out_units;
  const T eps = T(kNormEpsilon);
  VecMap<T> running_mean(state + l.state, units), running_var(state + l.state + units, units);
  auto inv_std = stat.col(0);  // (units)
  auto mean = stat.col(1);     // scratch (units)
  if (pass == Pass::train) {
    const long batch = in.cols();
    mean.noalias() = in.rowwise().mean();
    x_hat.noalias() = in.colwise() - mean;                                  // (units, batch)
    auto var = stat.col(2);
    var.noalias() = x_hat.array().square().matrix().rowwise().mean();       // biased
    inv_std.array() = (var.array() + eps).rsqrt();
    const T m = T(l.momentum);
    const T unbias = batch > 1 ? T(double(batch) / double(batch - 1)) : T(1);
    running_mean = (T(1) - m) * running_mean + m * mean;
    running_var = (T(1) - m) * running_var + (m * unbias) * var;
  } else {
    inv_std.array() = (running_var.array() + eps).rsqrt();
    x_hat.noalias() = in.colwise() - running_mean;
  }
  x_hat.array().colwise() *= inv_std.array();
  norm_affine_forward<T>(l.affine ? params + l.w : nullptr, params + l.b, x_hat, out);
}

template <class T>
void batch_norm_backward(const Layer& l, const T* params, T* grads, const Mat<T>& x_hat,
                         Mat<T>& stat, const Mat<T>& dout, Mat<T>* din) {
  if (l.out_shape.positions() > 1) return spatial_backward(l, params, grads, x_hat, stat, dout, din);
  if (l.affine) norm_affine_param_grads<T>(dout, x_hat, grads + l.w, grads + l.b);
  if (!din) return;
  // g = gamma dout goes into din first, then din = (g - mean(g) - x_hat mean(g x_hat)) / sigma.
  norm_affine_input_grad<T>(l.affine ? params + l.w : nullptr, dout, *din);
  auto inv_std = stat.col(0);
  auto mean_g = stat.col(1);
  auto mean_gx = stat.col(2);
  mean_g.noalias() = din->rowwise().mean();
  mean_gx.noalias() = (din->array() * x_hat.array()).matrix().rowwise().mean();
  din->array() = ((din->array().colwise() - mean_g.array()) -
                  x_hat.array().colwise() * mean_gx.array())
                     .colwise() *
                 inv_std.array();
}

#define INSTANTIATE(T)                                                                         \
  template void batch_norm_forward<T>(const Layer&, const T*, T*, Pass, const Mat<T>&, Mat<T>&, \
                                      Mat<T>&, Mat<T>&);                                       \
  template void batch_norm_backward<T>(const Layer&, const T*, T*, const Mat<T>&, Mat<T>&,     \
                                       const Mat<T>&, Mat<T>*);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
