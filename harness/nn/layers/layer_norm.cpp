// layer_norm: each example normalized over its units (Ba, Kiros & Hinton 2016), then a
// learnable per-unit gamma and beta (PyTorch's LayerNorm over the last dimension).
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"
#include "nn/layers/norm_affine.hpp"

namespace gradflow {

template <class T>
void layer_norm_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out,
                        Mat<T>& x_hat, Mat<T>& stat) {
  auto inv_std = stat.row(0);  // (1, batch)
  auto mean = stat.row(1);     // scratch
  auto var = stat.row(2);
  mean.noalias() = in.colwise().mean();
  x_hat.noalias() = in.rowwise() - mean;  // (units, batch)
  var.noalias() = x_hat.array().square().matrix().colwise().mean();
  inv_std.array() = (var.array() + T(kNormEpsilon)).rsqrt();
  x_hat.array().rowwise() *= inv_std.array();
  norm_affine_forward<T>(l.affine ? params + l.w : nullptr, params + l.b, x_hat, out);
}

template <class T>
void layer_norm_backward(const Layer& l, const T* params, T* grads, const Mat<T>& x_hat,
                         Mat<T>& stat, const Mat<T>& dout, Mat<T>* din) {
  if (l.affine) norm_affine_param_grads<T>(dout, x_hat, grads + l.w, grads + l.b);
  if (!din) return;
  norm_affine_input_grad<T>(l.affine ? params + l.w : nullptr, dout, *din);
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
