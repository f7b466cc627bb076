// conv2d: a k x k convolution (cross-correlation, as PyTorch's Conv2d) with stride, padding
// and a bias per output channel, as im2col of a chunk of examples + one GEMM per chunk for
// each of out, dW and dpatches. A chunk's patches (~1 MB) stay in cache from im2col to the
// GEMMs that read them; backward recomputes them, which measured faster than keeping the whole
// batch's (29 MB at 16 channels of 28 x 28, batch 64: 20 vs 30 steps/s, issue 15).
#include <algorithm>

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

// One example's patches, rows p = oy W' + ox of a column-major matrix with leading dimension
// `ld` starting at `patches`; column (ci, ky, kx) = ci k k + ky k + kx holds
// input[ci, oy s + ky - pad, ox s + kx - pad] (0 in the zero padding).
template <class T>
void im2col(const Layer& l, const T* in, T* patches, long ld) {
  const Shape& is = l.in_shape;
  const Shape& os = l.out_shape;
  const long k = l.kernel;
  const bool unit_stride_inside = l.stride == 1 && l.padding != Padding::circular;
  for (long ci = 0; ci < is.c; ++ci)
    for (long ky = 0; ky < k; ++ky)
      for (long kx = 0; kx < k; ++kx) {
        T* col = patches + ((ci * k + ky) * k + kx) * ld;
        const T* channel = in + ci * is.h * is.w;
        // Stride 1, zero padding: ox reads ix = ox + kx - pad, inside for ox in [lo, hi).
        const long lo = std::max(0L, l.pad - kx), hi = std::min(os.w, is.w + l.pad - kx);
        for (long oy = 0; oy < os.h; ++oy) {
          const long iy = source_index(oy, ky, l, is.h);
          T* dst = col + oy * os.w;
          if (iy < 0) {
            std::fill(dst, dst + os.w, T(0));
            continue;
          }
          const T* row = channel + iy * is.w;
          if (unit_stride_inside) {
            const long first = std::min(lo, os.w);
            std::fill(dst, dst + first, T(0));
            if (hi > first) std::copy(row + first + kx - l.pad, row + hi + kx - l.pad, dst + first);
            std::fill(dst + std::max(hi, first), dst + os.w, T(0));
            continue;
          }
          for (long ox = 0; ox < os.w; ++ox) {
            const long ix = source_index(ox, kx, l, is.w);
            dst[ox] = ix < 0 ? T(0) : row[ix];
          }
        }
      }
}

// The adjoint of im2col for one example: din[ci, iy, ix] = the sum of every patch entry
// that read it.
template <class T>
void col2im(const Layer& l, const T* dpatches, long ld, T* din) {
  const Shape& is = l.in_shape;
  const Shape& os = l.out_shape;
  const long k = l.kernel;
  const bool unit_stride_inside = l.stride == 1 && l.padding != Padding::circular;
  std::fill(din, din + is.size(), T(0));
  for (long ci = 0; ci < is.c; ++ci)
    for (long ky = 0; ky < k; ++ky)
      for (long kx = 0; kx < k; ++kx) {
        const T* col = dpatches + ((ci * k + ky) * k + kx) * ld;
        T* channel = din + ci * is.h * is.w;
        const long lo = std::max(0L, l.pad - kx), hi = std::min(os.w, is.w + l.pad - kx);
        for (long oy = 0; oy < os.h; ++oy) {
          const long iy = source_index(oy, ky, l, is.h);
          if (iy < 0) continue;
          const T* src = col + oy * os.w;
          T* row = channel + iy * is.w;
          if (unit_stride_inside) {
            T* dst = row + kx - l.pad;
            for (long ox = lo; ox < hi; ++ox) dst[ox] += src[ox];
            continue;
          }
          for (long ox = 0; ox < os.w; ++ox) {
            const long ix = source_index(ox, kx, l, is.w);
            if (ix >= 0) row[ix] += src[ox];
          }
        }
      }
}

}  // namespace

long conv2d_chunk(const Layer& l, long batch, long scalar_bytes) {
  const long per_example = l.out_shape.positions() * l.in_shape.c * l.kernel * l.kernel;
  return std::clamp(kConvChunkBytes / (per_example * scalar_bytes), 1L, batch);
}

template <class T>
void conv2d_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out,
                    Mat<T>& patches, Mat<T>& product) {
  const long positions = l.out_shape.positions(), c_out = l.out_shape.c;
  const long chunk = patches.rows() / positions, batch = in.cols();
  const Eigen::Map<const Mat<T>> w(params + l.w, c_out, patches.cols());  // (C_out, C_in k k)
  const T* b = params + l.b;                                             // (C_out)
  for (long n0 = 0; n0 < batch; n0 += chunk) {
    const long m = std::min(chunk, batch - n0), rows = m * positions;
    for (long j = 0; j < m; ++j)
      im2col(l, in.col(n0 + j).data(), patches.data() + j * positions, patches.rows());
    // (m H' W', C_out) = patches (m H' W', C_in k k) W^T, then each example's (H' W') run of
    // channel c moves to out's (C_out H' W', batch) layout, plus the bias.
    product.topRows(rows).noalias() = patches.topRows(rows) * w.transpose();
    for (long j = 0; j < m; ++j)
      for (long c = 0; c < c_out; ++c) {
        const T* src = product.data() + c * product.rows() + j * positions;
        T* dst = out.data() + (n0 + j) * out.rows() + c * positions;
        const T bias = b[c];
        for (long p = 0; p < positions; ++p) dst[p] = src[p] + bias;
      }
  }
}

template <class T>
void conv2d_backward(const Layer& l, const T* params, T* grads, const Mat<T>& in,
                     const Mat<T>& dout, Mat<T>* din, Mat<T>& patches, Mat<T>& dpatches,
                     Mat<T>& product) {
  const long positions = l.out_shape.positions(), c_out = l.out_shape.c;
  const long chunk = patches.rows() / positions, batch = in.cols();
  const bool kept = chunk >= batch;  // forward's patches are the whole batch's
  MatMap<T> dw(grads + l.w, c_out, patches.cols());  // (C_out, C_in k k)
  T* db = grads + l.b;                                // (C_out)
  std::fill(db, db + c_out, T(0));
  const Eigen::Map<const Mat<T>> w(params + l.w, c_out, patches.cols());
  for (long n0 = 0; n0 < batch; n0 += chunk) {
    const long m = std::min(chunk, batch - n0), rows = m * positions;
    if (!kept)
      for (long j = 0; j < m; ++j)
        im2col(l, in.col(n0 + j).data(), patches.data() + j * positions, patches.rows());
    // dproduct (m H' W', C_out): dout's runs back in the product's layout; db sums them.
    for (long j = 0; j < m; ++j)
      for (long c = 0; c < c_out; ++c) {
        const T* src = dout.data() + (n0 + j) * dout.rows() + c * positions;
        T* dst = product.data() + c * product.rows() + j * positions;
        T sum = 0;
        for (long p = 0; p < positions; ++p) {
          dst[p] = src[p];
          sum += src[p];
        }
        db[c] += sum;
      }
    if (n0 == 0)
      dw.noalias() = product.topRows(rows).transpose() * patches.topRows(rows);
    else
      dw.noalias() += product.topRows(rows).transpose() * patches.topRows(rows);
    if (!din) continue;
    dpatches.topRows(rows).noalias() = product.topRows(rows) * w;  // (m H' W', C_in k k)
    for (long j = 0; j < m; ++j)
      col2im(l, dpatches.data() + j * positions, dpatches.rows(), din->col(n0 + j).data());
  }
}

#define INSTANTIATE(T)                                                                      \
  template void conv2d_forward<T>(const Layer&, const T*, const Mat<T>&, Mat<T>&, Mat<T>&, \
                                  Mat<T>&);                                                 \
  template void conv2d_backward<T>(const Layer&, const T*, T*, const Mat<T>&,              \
                                   const Mat<T>&, Mat<T>*, Mat<T>&, Mat<T>&, Mat<T>&);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
