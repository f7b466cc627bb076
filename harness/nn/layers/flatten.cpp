// flatten: (C, H, W) -> (C H W, 1, 1). The column of an example is already its C H W values
// channel by channel, row by row, so only the shape's meaning changes: a copy each way.
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {

template <class T>
void flatten_forward(const Mat<T>& in, Mat<T>& out) {
  out = in;  // (C H W, batch)
}

template <class T>
void flatten_backward(const Mat<T>& dout, Mat<T>& din) {
  din = dout;
}

#define INSTANTIATE(T)                                              \
  template void flatten_forward<T>(const Mat<T>&, Mat<T>&);        \
  template void flatten_backward<T>(const Mat<T>&, Mat<T>&);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
