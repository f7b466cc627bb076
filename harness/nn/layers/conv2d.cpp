// conv2d: a k x k convolution (cross-correlation, as PyTorch's Conv2d) with stride, padding
// and a bias per output channel, as im2col + GEMM. One example's output (C_out H' W') is a
// column-major (H' W', C_out) matrix, so each example's GEMM writes straight into out, and
// backward reads dout in place: no layout copies. The batch's patches are made in chunks of
// about 1 MB, which stay in cache from im2col to the GEMMs that read them; backward recomputes
// them, which measured faster than keeping the whole batch's (29 MB at 16 channels of 28 x 28,
// batch 64: 20 vs 30 steps/s, issue 15). At stride 1 the input's gradient is itself a
// convolution (of dout with the flipped kernel), one im2col + GEMM per example; other strides
// scatter dout W back through col2im. At stride 1, where the shapes allow, conv2d_direct
// replaces the im2col: forward, the input gradient, and the weight gradient (whose patches
// small_gemm_gathered reads from the padded input), with the same bits.
#include <algorithm>

#include "nn/layers/conv2d_direct.hpp"
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"
#include "nn/product.hpp"

namespace gradflow {
namespace {

// What im2col reads and writes: an input of c channels of h x w, a k x k window at stride s
// with `pad` rows and columns before the first, and an output of oh x ow positions.
struct Im2col {
  long c, h, w, oh, ow, k, stride, pad;
  bool circular;
};

Im2col forward_geometry(const Layer& l) {
  return {l.in_shape.c, l.in_shape.h, l.in_shape.w, l.out_shape.h, l.out_shape.w,
          l.kernel, l.stride, l.pad, l.padding == Padding::circular};
}

// At stride 1, din[ci, iy, ix] = sum over (co, ky, kx) of dout[co, iy - ky + pad, ix - kx + pad]
// W[co, ci, ky, kx]: the same correlation over dout with the kernel flipped and k - 1 - pad of
// padding (pad <= k - 1 at every padding). Circular padding wraps the same way, since at stride
// 1 it keeps the input's size, so each tap maps output positions one to one onto the input's.
bool input_gradient_is_conv(const Layer& l) { return l.stride == 1; }

Im2col input_gradient_geometry(const Layer& l) {
  return {l.out_shape.c, l.out_shape.h, l.out_shape.w, l.in_shape.h, l.in_shape.w,
          l.kernel, 1, l.kernel - 1 - l.pad, l.padding == Padding::circular};
}

// The same two convolutions for conv2d_direct (stride 1 only).
DirectConv direct_forward_geometry(const Layer& l) {
  return {l.in_shape.c, l.in_shape.h, l.in_shape.w, l.out_shape.c, l.out_shape.h,
          l.out_shape.w, l.kernel, l.pad, l.padding == Padding::circular};
}
DirectConv direct_input_gradient_geometry(const Layer& l) {
  return {l.out_shape.c, l.out_shape.h, l.out_shape.w, l.in_shape.c, l.in_shape.h,
          l.in_shape.w, l.kernel, l.kernel - 1 - l.pad, l.padding == Padding::circular};
}
template <class T>
bool direct_forward(const Layer& l) {
  return l.stride == 1 && direct_conv_takes<T>(direct_forward_geometry(l));
}
template <class T>
bool direct_weight_gradient(const Layer& l) {
  return l.stride == 1 && direct_weight_gradient_takes<T>(direct_forward_geometry(l));
}
template <class T>
bool direct_input_gradient(const Layer& l) {
  return l.stride == 1 && direct_conv_takes<T>(direct_input_gradient_geometry(l));
}

inline long source_index(long o, long k, const Im2col& g, long size) {
  return conv_source(o, k, g.stride, g.pad, g.circular, size);
}

// dst[0, n) = src[0, n), inlined: these runs are a few dozen values, where a libc call
// costs more than the copy.
template <class T>
inline void copy_run(const T* src, long n, T* dst) {
  Eigen::Map<Vec<T>>(dst, n) = Eigen::Map<const Vec<T>>(src, n);
}
template <class T>
inline void zero_run(long n, T* dst) {
  Eigen::Map<Vec<T>>(dst, n).setZero();
}

// One output row of a stride-1 tap: dst[ox] = row[ox + dx] for ox in [0, ow), wrapped around
// the row when circular, else 0 outside it.
template <class T>
inline void shifted_row(const T* row, long w, long dx, bool circular, T* dst, long ow) {
  const long lo = std::clamp(-dx, 0L, ow), hi = std::clamp(w - dx, lo, ow);
  copy_run(row + lo + dx, hi - lo, dst + lo);
  for (long ox = 0; ox < lo; ++ox) dst[ox] = circular ? row[((ox + dx) % w + w) % w] : T(0);
  for (long ox = hi; ox < ow; ++ox) dst[ox] = circular ? row[(ox + dx) % w] : T(0);
}

// One column of a stride-1, zero-padded tap whose output rows are as wide as the input's
// (same padding): the image shifted by (dy, dx) is one contiguous run of the input, so one
// copy, then zeros where the shift left the image.
template <class T>
void shifted_image(const T* channel, long h, long w, long dy, long dx, T* dst, long oh) {
  const long oy_lo = std::clamp(-dy, 0L, oh), oy_hi = std::clamp(h - dy, oy_lo, oh);
  const long shift = dy * w + dx;
  const long first = std::max(oy_lo * w, -shift), last = std::min(oy_hi * w, h * w - shift);
  zero_run(oy_lo * w, dst);
  if (last > first) copy_run(channel + first + shift, last - first, dst + first);
  zero_run((oh - oy_hi) * w, dst + oy_hi * w);
  // The run wrapped from one row's end into the next one's start: those are padding, the
  // first lo and last w - hi entries of each row, written down each column (a loop along
  // the rows becomes a libc memset call per row, for one or two values).
  const long lo = std::clamp(-dx, 0L, w), hi = std::clamp(w - dx, lo, w);
  auto zero_column = [&](long ox) {
    for (long oy = oy_lo; oy < oy_hi; ++oy) dst[oy * w + ox] = T(0);
  };
  for (long ox = 0; ox < lo; ++ox) zero_column(ox);
  for (long ox = hi; ox < w; ++ox) zero_column(ox);
}

// One example's patches, rows p = oy W' + ox of a column-major matrix with leading dimension
// `ld` starting at `patches`; column (ci, ky, kx) = ci k k + ky k + kx holds
// input[ci, oy s + ky - pad, ox s + kx - pad] (0 in the zero padding).
template <class T>
void im2col(const Im2col& g, const T* in, T* patches, long ld) {
  const long k = g.k;
  for (long ci = 0; ci < g.c; ++ci)
    for (long ky = 0; ky < k; ++ky)
      for (long kx = 0; kx < k; ++kx) {
        T* col = patches + ((ci * k + ky) * k + kx) * ld;
        const T* channel = in + ci * g.h * g.w;
        if (g.stride == 1 && !g.circular && g.ow == g.w) {
          shifted_image(channel, g.h, g.w, ky - g.pad, kx - g.pad, col, g.oh);
          continue;
        }
        for (long oy = 0; oy < g.oh; ++oy) {
          const long iy = source_index(oy, ky, g, g.h);
          T* dst = col + oy * g.ow;
          if (iy < 0) {
            zero_run(g.ow, dst);
            continue;
          }
          const T* row = channel + iy * g.w;
          if (g.stride == 1) {
            shifted_row(row, g.w, kx - g.pad, g.circular, dst, g.ow);
            continue;
          }
          for (long ox = 0; ox < g.ow; ++ox) {
            const long ix = source_index(ox, kx, g, g.w);
            dst[ox] = ix < 0 ? T(0) : row[ix];
          }
        }
      }
}

// The adjoint of im2col for one example: din[ci, iy, ix] = the sum of every patch entry
// that read it.
template <class T>
void col2im(const Im2col& g, const T* dpatches, long ld, T* din) {
  const long k = g.k;
  std::fill(din, din + g.c * g.h * g.w, T(0));
  for (long ci = 0; ci < g.c; ++ci)
    for (long ky = 0; ky < k; ++ky)
      for (long kx = 0; kx < k; ++kx) {
        const T* col = dpatches + ((ci * k + ky) * k + kx) * ld;
        T* channel = din + ci * g.h * g.w;
        for (long oy = 0; oy < g.oh; ++oy) {
          const long iy = source_index(oy, ky, g, g.h);
          if (iy < 0) continue;
          const T* src = col + oy * g.ow;
          T* row = channel + iy * g.w;
          for (long ox = 0; ox < g.ow; ++ox) {
            const long ix = source_index(ox, kx, g, g.w);
            if (ix >= 0) row[ix] += src[ox];
          }
        }
      }
}

// flipped (C_out k k, C_in): row (co, ky, kx) = W[co, ci, k-1-ky, k-1-kx], the kernel of the
// input-gradient convolution; `transposed`: (C_in, C_out k k), as direct_conv reads it.
template <class T>
void flip_kernel(const Layer& l, const Eigen::Map<const Mat<T>>& w, T* flipped,
                 bool transposed) {
  const long k = l.kernel, c_out = l.out_shape.c, c_in = l.in_shape.c, rows = c_out * k * k;
  for (long ci = 0; ci < c_in; ++ci)
    for (long co = 0; co < c_out; ++co)
      for (long ky = 0; ky < k; ++ky)
        for (long kx = 0; kx < k; ++kx) {
          const long j = (co * k + ky) * k + kx;
          flipped[transposed ? j * c_in + ci : ci * rows + j] =
              w(co, (ci * k + (k - 1 - ky)) * k + (k - 1 - kx));
        }
}

}  // namespace

long conv2d_chunk(const Layer& l, long batch, long scalar_bytes) {
  const long per_example = l.out_shape.positions() * l.in_shape.c * l.kernel * l.kernel;
  return per_example * scalar_bytes * batch <= kConvChunkBytes ? batch : 1;
}

ConvScratch conv2d_scratch(const Layer& l) {
  const long k2 = l.kernel * l.kernel;
  ConvScratch s{l.out_shape.positions(), l.in_shape.c * k2, 0, 0, 0};
  if (input_gradient_is_conv(l)) {
    s = {l.in_shape.positions(), l.out_shape.c * k2, l.out_shape.c * k2, l.in_shape.c, 0};
    s.direct = std::max(direct_conv_scratch(direct_forward_geometry(l)),
                        direct_conv_scratch(direct_input_gradient_geometry(l)));
  }
  return s;
}

template <class T>
bool conv2d_keeps_padded_input(const Layer& l, long batch) {
  return conv2d_chunk(l, batch, sizeof(T)) < batch && direct_forward<T>(l) &&
         direct_weight_gradient<T>(l);
}

long conv2d_padded_elements(const Layer& l) {
  return direct_conv_padded_elements(direct_forward_geometry(l));
}

template <class T>
void conv2d_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out,
                    Mat<T>& patches, Mat<T>& scratch, Mat<T>* padded) {
  const long positions = l.out_shape.positions(), c_out = l.out_shape.c;
  const long chunk = patches.rows() / positions, batch = in.cols();
  const Im2col g = forward_geometry(l);
  const Eigen::Map<const Mat<T>> w(params + l.w, c_out, patches.cols());  // (C_out, C_in k k)
  const T* b = params + l.b;                                             // (C_out)
  // Without im2col when backward makes its own patches anyway (chunks smaller than the batch).
  if (chunk < batch && direct_forward<T>(l)) {
    const DirectConv dg = direct_forward_geometry(l);
    for (long n = 0; n < batch; ++n)
      direct_conv(dg, in.col(n).data(), w.data(), b, out.col(n).data(), scratch.data(),
                  padded ? padded->col(n).data() : nullptr);
    return;
  }
  for (long n0 = 0; n0 < batch; n0 += chunk) {
    const long m = std::min(chunk, batch - n0);
    for (long j = 0; j < m; ++j)
      im2col(g, in.col(n0 + j).data(), patches.data() + j * positions, patches.rows());
    // out_n (H' W', C_out) = b + patches_n (H' W', C_in k k) W^T: the accumulator starts at b.
    for (long j = 0; j < m; ++j) {
      MatMap<T> out_n(out.col(n0 + j).data(), positions, c_out);
      for (long c = 0; c < c_out; ++c) out_n.col(c).setConstant(b[c]);
      product_into(out_n, patches.middleRows(j * positions, positions), w.transpose(), true);
    }
  }
}

template <class T>
void conv2d_backward(const Layer& l, const T* params, T* grads, const Mat<T>& in,
                     const Mat<T>& dout, Mat<T>* din, Mat<T>& patches, Mat<T>& scratch,
                     Mat<T>& flipped, const Mat<T>* padded) {
  const long positions = l.out_shape.positions(), c_out = l.out_shape.c;
  const long chunk = patches.rows() / positions, batch = in.cols();
  const bool kept = chunk >= batch;  // forward's patches are the whole batch's
  const Im2col g = forward_geometry(l);
  MatMap<T> dw(grads + l.w, c_out, patches.cols());  // (C_out, C_in k k)
  Eigen::Map<Vec<T>> db(grads + l.b, c_out);        // (C_out)
  dw.setZero();
  db.setZero();
  const Eigen::Map<const Mat<T>> w(params + l.w, c_out, patches.cols());
  const bool as_conv = input_gradient_is_conv(l);
  const bool direct = as_conv && direct_input_gradient<T>(l);
  const Im2col dg = input_gradient_geometry(l);
  const DirectConv ddg = direct_input_gradient_geometry(l);
  if (din && as_conv) flip_kernel(l, w, flipped.data(), direct);
  const ConvScratch s = conv2d_scratch(l);
  MatMap<T> dpatches(scratch.data(), s.rows, s.cols);
  // dW from the input's padded planes when forward's patches are gone (no im2col).
  const bool gathered = !kept && direct_weight_gradient<T>(l);
  // Forward's padded planes, where it made them (without im2col: the same chunks).
  const Mat<T>* planes = padded && gathered && direct_forward<T>(l) ? padded : nullptr;
  const DirectConv fg = direct_forward_geometry(l);
  for (long n0 = 0; n0 < batch; n0 += chunk) {
    const long m = std::min(chunk, batch - n0);
    if (!kept && !gathered)
      for (long j = 0; j < m; ++j)
        im2col(g, in.col(n0 + j).data(), patches.data() + j * positions, patches.rows());
    for (long j = 0; j < m; ++j) {
      const long n = n0 + j;
      const Eigen::Map<const Mat<T>> dout_n(dout.col(n).data(), positions, c_out);
      if (gathered)
        direct_weight_gradient(fg, in.col(n).data(), dout_n.data(), dw.data(), scratch.data(),
                               planes ? planes->col(n).data() : nullptr);
      else
        dw.noalias() += dout_n.transpose() * patches.middleRows(j * positions, positions);
      db += dout_n.colwise().sum().transpose();
      if (!din) continue;
      if (direct) {
        direct_conv(ddg, dout_n.data(), flipped.data(), static_cast<const T*>(nullptr),
                    din->col(n).data(), scratch.data());
      } else if (as_conv) {
        // din_n (H W, C_in) = im2col(dout_n) (H W, C_out k k) flipped (C_out k k, C_in)
        im2col(dg, dout_n.data(), dpatches.data(), dpatches.rows());
        MatMap<T> din_n(din->col(n).data(), l.in_shape.positions(), l.in_shape.c);
        product_into(din_n, dpatches, MatMap<T>(flipped.data(), s.flipped_rows, s.flipped_cols),
                     false);
      } else {
        product_into(dpatches, dout_n, w, false);  // (H' W', C_in k k)
        col2im(g, dpatches.data(), dpatches.rows(), din->col(n).data());
      }
    }
  }
}

#define INSTANTIATE(T)                                                                      \
  template bool conv2d_keeps_padded_input<T>(const Layer&, long);                           \
  template void conv2d_forward<T>(const Layer&, const T*, const Mat<T>&, Mat<T>&, Mat<T>&,  \
                                  Mat<T>&, Mat<T>*);                                      \
  template void conv2d_backward<T>(const Layer&, const T*, T*, const Mat<T>&,              \
                                   const Mat<T>&, Mat<T>*, Mat<T>&, Mat<T>&, Mat<T>&,      \
                                   const Mat<T>*);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
