// activation: one of the fixed activations (nn/activation.hpp), elementwise.
#include "nn/activation.hpp"

#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {

template <class T>
void activation_forward(const Layer& l, const Mat<T>& in, Mat<T>& out, Mat<T>& dphi) {
  activate<T>(l.activation, in, out, &dphi);  // out, dphi (units, batch)
}

template <class T>
void activation_backward(const Mat<T>& dphi, const Mat<T>& dout, Mat<T>& din) {
  if (&din == &dout)
    din.array() *= dphi.array();
  else
    din.array() = dout.array() * dphi.array();
}

#define INSTANTIATE(T)                                                                   \
  template void activation_forward<T>(const Layer&, const Mat<T>&, Mat<T>&, Mat<T>&);   \
  template void activation_backward<T>(const Mat<T>&, const Mat<T>&, Mat<T>&);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
