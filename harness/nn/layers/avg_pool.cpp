// avg_pool: the mean of each k x k window (stride s, no padding), per channel.
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {

template <class T>
void avg_pool_forward(const Layer& l, const Mat<T>& in, Mat<T>& out) {
  const Shape& is = l.in_shape;   // in (C H W, batch)
  const Shape& os = l.out_shape;  // out (C H' W', batch)
  const long k = l.kernel, s = l.stride;
  const T scale = T(1) / T(k * k);
  for (long n = 0; n < in.cols(); ++n)
    for (long c = 0; c < os.c; ++c)
      for (long oy = 0; oy < os.h; ++oy)
        for (long ox = 0; ox < os.w; ++ox) {
          T sum = 0;
          for (long ky = 0; ky < k; ++ky)
            for (long kx = 0; kx < k; ++kx) sum += in((c * is.h + oy * s + ky) * is.w + ox * s + kx, n);
          out((c * os.h + oy) * os.w + ox, n) = sum * scale;
        }
}

// din = dout / k^2 spread over each window (windows that overlap add up).
template <class T>
void avg_pool_backward(const Layer& l, const Mat<T>& dout, Mat<T>& din) {
  const Shape& is = l.in_shape;
  const Shape& os = l.out_shape;
  const long k = l.kernel, s = l.stride;
  const T scale = T(1) / T(k * k);
  din.setZero();
  for (long n = 0; n < dout.cols(); ++n)
    for (long c = 0; c < os.c; ++c)
      for (long oy = 0; oy < os.h; ++oy)
        for (long ox = 0; ox < os.w; ++ox) {
          const T g = dout((c * os.h + oy) * os.w + ox, n) * scale;
          for (long ky = 0; ky < k; ++ky)
            for (long kx = 0; kx < k; ++kx) din((c * is.h + oy * s + ky) * is.w + ox * s + kx, n) += g;
        }
}

#define INSTANTIATE(T)                                                      \
  template void avg_pool_forward<T>(const Layer&, const Mat<T>&, Mat<T>&); \
  template void avg_pool_backward<T>(const Layer&, const Mat<T>&, Mat<T>&);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
