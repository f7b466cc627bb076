// prelu: a leaky ReLU whose negative slope is learned, one per unit (He et al. 2015,
// "Delving deep into rectifiers", eq. 1-2).
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {

template <class T>
void prelu_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out, Mat<T>& dphi) {
  const Eigen::Map<const Vec<T>> a(params + l.w, l.out_units);  // (units)
  // step = 1 where in > 0, else 0, without select() (not vectorised).
  dphi.array() = in.array().max(T(0)).ceil().min(T(1));
  dphi.array() += (T(1) - dphi.array()).colwise() * a.array();  // 1 or a_u
  out.array() = in.array().max(T(0)) + in.array().min(T(0)).colwise() * a.array();
}

template <class T>
void prelu_backward(const Layer& l, T* grads, const Mat<T>& in, const Mat<T>& dphi,
                    const Mat<T>& dout, Mat<T>& din) {
  VecMap<T> da(grads + l.w, l.out_units);
  da.noalias() = (dout.array() * in.array().min(T(0))).matrix().rowwise().sum();  // before din
  if (&din == &dout)
    din.array() *= dphi.array();
  else
    din.array() = dout.array() * dphi.array();
}

#define INSTANTIATE(T)                                                                        \
  template void prelu_forward<T>(const Layer&, const T*, const Mat<T>&, Mat<T>&, Mat<T>&);   \
  template void prelu_backward<T>(const Layer&, T*, const Mat<T>&, const Mat<T>&,            \
                                  const Mat<T>&, Mat<T>&);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
