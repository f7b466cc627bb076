// conv2d: a k x k convolution (cross-correlation, as PyTorch's Conv2d) with stride, padding
// and a bias per output channel, as im2col + one GEMM per example (the batch stays the
// column dimension: an example's column of C H W values is viewed as a (H W, C) matrix).
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {
namespace {

// Where input row `i` (or column) of an output at `o` and kernel offset `k` reads, or -1 for
// a zero of the padding. Circular padding wraps around the image.
inline long source_index(long o, long k, const Layer& l, long size) {
  long i = o * l.stride + k - l.pad;
  if (i >= 0 && i < size) return i;
  if (l.padding != Padding::circular) return -1;
  i %= size;
  return i < 0 ? i + size : i;
}

// patches (H' W', C_in k k): row p = oy W' + ox, column (ci, ky, kx) = ci k k + ky k + kx,
// holding input[ci, oy s + ky - pad, ox s + kx - pad] (0 in the zero padding).
template <class T>
void im2col(const Layer& l, const T* in, Mat<T>& patches) {
  const Shape& is = l.in_shape;
  const Shape& os = l.out_shape;
  const long k = l.kernel;
  for (long ci = 0; ci < is.c; ++ci)
    for (long ky = 0; ky < k; ++ky)
      for (long kx = 0; kx < k; ++kx) {
        T* col = patches.data() + ((ci * k + ky) * k + kx) * patches.rows();
        const T* channel = in + ci * is.h * is.w;
        for (long oy = 0; oy < os.h; ++oy) {
          const long iy = source_index(oy, ky, l, is.h);
          T* dst = col + oy * os.w;
          if (iy < 0) {
            for (long ox = 0; ox < os.w; ++ox) dst[ox] = T(0);
            continue;
          }
          const T* row = channel + iy * is.w;
          for (long ox = 0; ox < os.w; ++ox) {
            const long ix = source_index(ox, kx, l, is.w);
            dst[ox] = ix < 0 ? T(0) : row[ix];
          }
        }
      }
}

// The adjoint of im2col: din[ci, iy, ix] += every patch entry that read it.
template <class T>
void col2im(const Layer& l, const Mat<T>& dpatches, T* din) {
  const Shape& is = l.in_shape;
  const Shape& os = l.out_shape;
  const long k = l.kernel;
  for (long i = 0; i < is.size(); ++i) din[i] = T(0);
  for (long ci = 0; ci < is.c; ++ci)
    for (long ky = 0; ky < k; ++ky)
      for (long kx = 0; kx < k; ++kx) {
        const T* col = dpatches.data() + ((ci * k + ky) * k + kx) * dpatches.rows();
        T* channel = din + ci * is.h * is.w;
        for (long oy = 0; oy < os.h; ++oy) {
          const long iy = source_index(oy, ky, l, is.h);
          if (iy < 0) continue;
          const T* src = col + oy * os.w;
          T* row = channel + iy * is.w;
          for (long ox = 0; ox < os.w; ++ox) {
            const long ix = source_index(ox, kx, l, is.w);
            if (ix >= 0) row[ix] += src[ox];
          }
        }
      }
}

}  // namespace

template <class T>
void conv2d_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out,
                    Mat<T>& patches) {
  const long positions = l.out_shape.positions(), c_out = l.out_shape.c;
  const Eigen::Map<const Mat<T>> w(params + l.w, c_out, patches.cols());  // (C_out, C_in k k)
  const Eigen::Map<const Vec<T>> b(params + l.b, c_out);                 // (C_out)
  for (long n = 0; n < in.cols(); ++n) {
    im2col(l, in.col(n).data(), patches);                     // (H' W', C_in k k)
    MatMap<T> out_n(out.col(n).data(), positions, c_out);     // (H' W', C_out)
    out_n.noalias() = patches * w.transpose();
    out_n.rowwise() += b.transpose();
  }
}

template <class T>
void conv2d_backward(const Layer& l, const T* params, T* grads, const Mat<T>& in,
                     const Mat<T>& dout, Mat<T>* din, Mat<T>& patches, Mat<T>& dpatches) {
  const long positions = l.out_shape.positions(), c_out = l.out_shape.c;
  MatMap<T> dw(grads + l.w, c_out, patches.cols());  // (C_out, C_in k k)
  VecMap<T> db(grads + l.b, c_out);
  dw.setZero();
  db.setZero();
  const Eigen::Map<const Mat<T>> w(params + l.w, c_out, patches.cols());
  for (long n = 0; n < in.cols(); ++n) {
    const Eigen::Map<const Mat<T>> dout_n(dout.col(n).data(), positions, c_out);  // (H' W', C_out)
    im2col(l, in.col(n).data(), patches);  // recomputed: one example's patches are kept
    dw.noalias() += dout_n.transpose() * patches;
    db.noalias() += dout_n.colwise().sum().transpose();
    if (!din) continue;
    dpatches.noalias() = dout_n * w;  // (H' W', C_in k k)
    col2im(l, dpatches, din->col(n).data());
  }
}

#define INSTANTIATE(T)                                                                        \
  template void conv2d_forward<T>(const Layer&, const T*, const Mat<T>&, Mat<T>&, Mat<T>&);  \
  template void conv2d_backward<T>(const Layer&, const T*, T*, const Mat<T>&, const Mat<T>&, \
                                   Mat<T>*, Mat<T>&, Mat<T>&);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
