// dense: z = W x + b, and its backward.
#include "nn/layers/layers.hpp"

#include "nn/layers/instantiate.hpp"
#include "nn/product.hpp"
#include "nn/small_gemm.hpp"

namespace gradflow {

namespace {

// Whether starting the product's accumulator at b gives exactly (W x) + b. Eigen's GEMM
// zeroes its destination, adds the whole depth's sum to it, and we add b after: starting at b
// saves the zeroing pass (docs/speed.md), and b + sum == sum + b as long as the sum reaches
// the destination in one piece. It does not when the GEMM cuts the depth into blocks of kc
// (Eigen's blocking follows the cache sizes, so this is decided at run time, per shape), nor
// for a matrix-vector product, which accumulates into the destination column by column.
template <class T>
bool bias_folds_exactly(long rows, long depth, long cols) {
  if (rows < 2 || cols < 2) return false;  // a matrix-vector product
  Eigen::Index k = depth, m = rows, n = cols;
  Eigen::internal::computeProductBlockingSizes<T, T>(k, m, n, Eigen::Index(1));
  return k >= depth;
}

}  // namespace

template <class T>
void dense_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out) {
  const Eigen::Map<const Mat<T>> w(params + l.w, l.out_units, l.in_units);  // (out, in)
  const Eigen::Map<const Vec<T>> b(params + l.b, l.out_units);              // (out)
  // (out, batch) = W (out, in) x (in, batch)
  if (bias_folds_exactly<T>(l.out_units, l.in_units, in.cols())) {
    out.colwise() = b;
    product_into(out, w, in, true);
    return;
  }
  product_into(out, w, in, false);
  out.colwise() += b;
}

template <class T>
bool dense_uses_transpose(const Layer& l, long batch) {
  return small_gemm_takes<T>(l.in_units, batch, l.out_units);
}

template <class T>
void dense_backward(const Layer& l, const T* params, T* grads, const Mat<T>& in,
                    const Mat<T>& dout, Mat<T>* din, Mat<T>* w_t) {
  MatMap<T> dw(grads + l.w, l.out_units, l.in_units);
  VecMap<T> db(grads + l.b, l.out_units);
  product_into(dw, dout, in.transpose(), false);  // (out, in) = dout (out, batch) x^T (batch, in)
  db.noalias() = dout.rowwise().sum();   // (out)
  if (!din) return;
  const Eigen::Map<const Mat<T>> w(params + l.w, l.out_units, l.in_units);
  // (in, batch) = W^T (in, out) dout (out, batch); the copy costs less than small_gemm saves.
  if (!w_t) {
    din->noalias() = w.transpose() * dout;
    return;
  }
  transpose_into(w.data(), l.out_units, l.in_units, w_t->data());
  product_into(*din, *w_t, dout, false);
}

#define INSTANTIATE(T)                                                                     \
  template void dense_forward<T>(const Layer&, const T*, const Mat<T>&, Mat<T>&);         \
  template void dense_backward<T>(const Layer&, const T*, T*, const Mat<T>&, const Mat<T>&, \
                                  Mat<T>*, Mat<T>*);                                        \
  template bool dense_uses_transpose<T>(const Layer&, long);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
