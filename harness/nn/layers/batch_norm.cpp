// batch_norm over the batch, per unit (Ioffe & Szegedy 2015, Algorithm 1 and section 3.1's
// backward; running statistics as PyTorch's BatchNorm1d).
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {

template <class T>
void batch_norm_forward(const Layer& l, const T* params, T* state, Pass pass, const Mat<T>& in,
                        Mat<T>& out, Mat<T>& x_hat, Mat<T>& stat) {
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
  if (l.affine) {
    const Eigen::Map<const Vec<T>> gamma(params + l.w, units), beta(params + l.b, units);
    out.array() = (x_hat.array().colwise() * gamma.array()).colwise() + beta.array();
  } else {
    out = x_hat;
  }
}

template <class T>
void batch_norm_backward(const Layer& l, const T* params, T* grads, const Mat<T>& x_hat,
                         Mat<T>& stat, const Mat<T>& dout, Mat<T>* din) {
  const long units = l.out_units;
  if (l.affine) {
    VecMap<T> dgamma(grads + l.w, units), dbeta(grads + l.b, units);
    dgamma.noalias() = (dout.array() * x_hat.array()).matrix().rowwise().sum();
    dbeta.noalias() = dout.rowwise().sum();
  }
  if (!din) return;
  // g = gamma dout goes into din first, then din = (g - mean(g) - x_hat mean(g x_hat)) / sigma.
  if (l.affine) {
    const Eigen::Map<const Vec<T>> gamma(params + l.w, units);
    din->array() = dout.array().colwise() * gamma.array();
  } else {
    *din = dout;
  }
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
