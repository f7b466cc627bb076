// max_pool: the largest value of each k x k window (stride s, no padding), per channel; the
// gradient goes to the window's argmax (the first one on ties, as PyTorch).
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {

template <class T>
void max_pool_forward(const Layer& l, const Mat<T>& in, Mat<T>& out, Mat<T>& argmax) {
  const Shape& is = l.in_shape;  // in (C H W, batch)
  const Shape& os = l.out_shape;  // out, argmax (C H' W', batch); argmax: the input's row
  const long k = l.kernel, s = l.stride;
  for (long n = 0; n < in.cols(); ++n)
    for (long c = 0; c < os.c; ++c) {
      const long channel = c * is.h * is.w;
      const T* x = in.col(n).data() + channel;
      T* y = out.col(n).data() + c * os.h * os.w;
      T* where = argmax.col(n).data() + c * os.h * os.w;
      for (long oy = 0; oy < os.h; ++oy)
        for (long ox = 0; ox < os.w; ++ox) {
          const long corner = oy * s * is.w + ox * s;  // the window's first entry
          long best = corner;
          for (long ky = 0; ky < k; ++ky)
            for (long kx = 0; kx < k; ++kx) {
              const long i = corner + ky * is.w + kx;
              if (x[i] > x[best]) best = i;
            }
          y[oy * os.w + ox] = x[best];
          where[oy * os.w + ox] = T(channel + best);  // exact: rows < 2^24 (checked by the config)
        }
    }
}

template <class T>
void max_pool_backward(const Mat<T>& argmax, const Mat<T>& dout, Mat<T>& din) {
  din.setZero();
  for (long n = 0; n < dout.cols(); ++n)
    for (long o = 0; o < dout.rows(); ++o) din(long(argmax(o, n)), n) += dout(o, n);
}

#define INSTANTIATE(T)                                                                  \
  template void max_pool_forward<T>(const Layer&, const Mat<T>&, Mat<T>&, Mat<T>&);    \
  template void max_pool_backward<T>(const Mat<T>&, const Mat<T>&, Mat<T>&);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
