// layer_norm: each example normalized over its units (Ba, Kiros & Hinton 2016), then a
// learnable per-unit gamma and beta (PyTorch's LayerNorm over the last dimension).
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {

template <class T>
void layer_norm_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out,
                        Mat<T>& x_hat, Mat<T>& stat) {
  const long units = l.out_units;
  auto inv_std = stat.row(0);  // (1, batch)
  auto mean = stat.row(1);     // scratch
  auto var = stat.row(2);
  mean.noalias() = in.colwise().mean();
  x_hat.noalias() = in.rowwise() - mean;  // (units, batch)
  var.noalias() = x_hat.array().square().matrix().colwise().mean();
  inv_std.array() = (var.array() + T(kNormEpsilon)).rsqrt();
  x_hat.array().rowwise() *= inv_std.array();
  if (l.affine) {
    const Eigen::Map<const Vec<T>> gamma(params + l.w, units), beta(params + l.b, units);
    out.array() = (x_hat.array().colwise() * gamma.array()).colwise() + beta.array();
  } else {
    out = x_hat;
  }
}

template <class T>
void layer_norm_backward(const Layer& l, const T* params, T* grads, const Mat<T>& x_hat,
                         Mat<T>& stat, const Mat<T>& dout, Mat<T>* din) {
  const long units = l.out_units;
  if (l.affine) {
    VecMap<T> dgamma(grads + l.w, units), dbeta(grads + l.b, units);
    dgamma.noalias() = (dout.array() * x_hat.array()).matrix().rowwise().sum();
    dbeta.noalias() = dout.rowwise().sum();
  }
  if (!din) return;
  if (l.affine) {
    const Eigen::Map<const Vec<T>> gamma(params + l.w, units);
    din->array() = dout.array().colwise() * gamma.array();
  } else {
    *din = dout;
  }
  auto inv_std = stat.row(0);
  auto mean_g = stat.row(1);
  auto mean_gx = stat.row(2);
  mean_g.noalias() = din->colwise().mean();
  mean_gx.noalias() = (din->array() * x_hat.array()).matrix().colwise().mean();
  din->array() = ((din->array().rowwise() - mean_g.array()) -
                  x_hat.array().rowwise() * mean_gx.array())
                     .rowwise() *
                 inv_std.array();
}

#define INSTANTIATE(T)                                                                     \
  template void layer_norm_forward<T>(const Layer&, const T*, const Mat<T>&, Mat<T>&,     \
                                      Mat<T>&, Mat<T>&);                                   \
  template void layer_norm_backward<T>(const Layer&, const T*, T*, const Mat<T>&, Mat<T>&, \
                                       const Mat<T>&, Mat<T>*);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
