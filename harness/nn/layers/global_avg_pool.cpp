// global_avg_pool: each channel's mean over its H W positions, (C, H, W) -> (C, 1, 1).
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {

template <class T>
void global_avg_pool_forward(const Layer& l, const Mat<T>& in, Mat<T>& out) {
  const long positions = l.in_shape.positions(), c = l.in_shape.c;
  for (long n = 0; n < in.cols(); ++n) {
    const Eigen::Map<const Mat<T>> in_n(in.col(n).data(), positions, c);  // (H W, C)
    out.col(n).noalias() = in_n.colwise().mean().transpose();            // (C)
  }
}

// din[c, p] = dout[c] / (H W).
template <class T>
void global_avg_pool_backward(const Layer& l, const Mat<T>& dout, Mat<T>& din) {
  const long positions = l.in_shape.positions(), c = l.in_shape.c;
  const T scale = T(1) / T(positions);
  for (long n = 0; n < dout.cols(); ++n) {
    MatMap<T> din_n(din.col(n).data(), positions, c);  // (H W, C)
    din_n.rowwise() = scale * dout.col(n).transpose();
  }
}

#define INSTANTIATE(T)                                                             \
  template void global_avg_pool_forward<T>(const Layer&, const Mat<T>&, Mat<T>&); \
  template void global_avg_pool_backward<T>(const Layer&, const Mat<T>&, Mat<T>&);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
