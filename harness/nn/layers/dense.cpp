// dense: z = W x + b, and its backward.
#include "nn/layers/layers.hpp"

#include "nn/layers/instantiate.hpp"

namespace gradflow {

template <class T>
void dense_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out) {
  const Eigen::Map<const Mat<T>> w(params + l.w, l.out_units, l.in_units);  // (out, in)
  const Eigen::Map<const Vec<T>> b(params + l.b, l.out_units);              // (out)
  out.noalias() = w * in;  // (out, batch)
  out.colwise() += b;
}

template <class T>
void dense_backward(const Layer& l, const T* params, T* grads, const Mat<T>& in,
                    const Mat<T>& dout, Mat<T>* din) {
  MatMap<T> dw(grads + l.w, l.out_units, l.in_units);
  VecMap<T> db(grads + l.b, l.out_units);
  dw.noalias() = dout * in.transpose();  // (out, in)
  db.noalias() = dout.rowwise().sum();   // (out)
  if (!din) return;
  const Eigen::Map<const Mat<T>> w(params + l.w, l.out_units, l.in_units);
  din->noalias() = w.transpose() * dout;  // (in, batch)
}

#define INSTANTIATE(T)                                                                     \
  template void dense_forward<T>(const Layer&, const T*, const Mat<T>&, Mat<T>&);         \
  template void dense_backward<T>(const Layer&, const T*, T*, const Mat<T>&, const Mat<T>&, \
                                  Mat<T>*);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
