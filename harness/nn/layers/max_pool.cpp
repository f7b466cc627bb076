// max_pool: the largest value of each k x k window (stride s, no padding), per channel; the
// gradient goes to the window's argmax (the first one on ties, as PyTorch).
#include <cstring>

#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {

namespace {

// One channel's windows, any k and stride: `best` starts at the window's first entry and moves
// only to a strictly larger one, in row-major order, so ties keep the first, and a NaN wins
// only as the first entry.
template <class T>
void pool_channel(const T* x, long in_w, long oh, long ow, long k, long s, long channel, T* y,
                  T* where) {
  for (long oy = 0; oy < oh; ++oy)
    for (long ox = 0; ox < ow; ++ox) {
      const long corner = oy * s * in_w + ox * s;  // the window's first entry
      long best = corner;
      for (long ky = 0; ky < k; ++ky)
        for (long kx = 0; kx < k; ++kx) {
          const long i = corner + ky * in_w + kx;
          if (x[i] > x[best]) best = i;
        }
      y[oy * ow + ox] = x[best];
      where[oy * ow + ox] = T(channel + best);  // exact: rows < 2^24 (checked by the config)
    }
}

// W windows side by side in a vector of W lanes (GCC/clang vector extensions: the target's
// widest registers that hold W values, plain scalars without SIMD).
template <class T, int W>
struct Lanes {
  typedef T type __attribute__((vector_size(W * sizeof(T))));
};

// The even and odd entries of 2W consecutive values: the left and right columns of W
// windows of width 2.
template <class T, int W>
void split_pairs(const T* row, typename Lanes<T, W>::type& left,
                 typename Lanes<T, W>::type& right) {
  typename Lanes<T, W>::type lo, hi;
  std::memcpy(&lo, row, sizeof lo);
  std::memcpy(&hi, row + W, sizeof hi);
  if constexpr (W == 8) {
    left = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
    right = __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15);
  } else if constexpr (W == 4) {
    left = __builtin_shufflevector(lo, hi, 0, 2, 4, 6);
    right = __builtin_shufflevector(lo, hi, 1, 3, 5, 7);
  } else {
    static_assert(W == 2);
    left = __builtin_shufflevector(lo, hi, 0, 2);
    right = __builtin_shufflevector(lo, hi, 1, 3);
  }
}

// Output row oy's windows [ox0, ox0 + W) of a 2 x 2, stride-2 pool: pool_channel's four
// comparisons in its order, as lane-wise selects. Each window's first entry's row (as T:
// exact below 2^24) is `first`.
template <class T, int W>
void pool_2x2_lanes(const T* top, long in_w, T row, long ox0, T* y, T* where) {
  using V = typename Lanes<T, W>::type;
  V a, b, c, d;
  split_pairs<T, W>(top + 2 * ox0, a, b);
  split_pairs<T, W>(top + in_w + 2 * ox0, c, d);
  V first;
  for (int i = 0; i < W; ++i) first[i] = row + T(2 * (ox0 + i));
  V v = a, at = first;
  at = b > v ? first + T(1) : at;
  v = b > v ? b : v;
  at = c > v ? first + T(in_w) : at;
  v = c > v ? c : v;
  at = d > v ? first + T(in_w + 1) : at;
  v = d > v ? d : v;
  std::memcpy(y + ox0, &v, sizeof v);
  std::memcpy(where + ox0, &at, sizeof at);
}

// One output row of ow >= W windows, W at a time, the last group overlapping the one before,
// so no width takes a scalar tail (14 and 7 windows: groups of 8 or 4 floats).
template <class T, int W>
void pool_row_2x2(const T* top, long in_w, T row, long ow, T* y, T* where) {
  long ox = 0;
  for (; ox + W <= ow; ox += W) pool_2x2_lanes<T, W>(top, in_w, row, ox, y, where);
  if (ox < ow) pool_2x2_lanes<T, W>(top, in_w, row, ow - W, y, where);
}

// 2 x 2 windows at stride 2 (the conv shorthand's pools; 6% of a CNN step one window at a
// time), in lanes of 32 or 16 bytes; rows narrower than that one window at a time.
template <class T>
void pool_channel_2x2(const T* x, long in_w, long oh, long ow, long channel, T* y, T* where) {
  constexpr int Wide = 32 / sizeof(T), Narrow = 16 / sizeof(T);
  for (long oy = 0; oy < oh; ++oy) {
    const T* top = x + 2 * oy * in_w;
    const long row = channel + 2 * oy * in_w;
    T* y_row = y + oy * ow;
    T* where_row = where + oy * ow;
    if (ow >= Wide)
      pool_row_2x2<T, Wide>(top, in_w, T(row), ow, y_row, where_row);
    else if (ow >= Narrow)
      pool_row_2x2<T, Narrow>(top, in_w, T(row), ow, y_row, where_row);
    else
      pool_channel(top, in_w, 1, ow, 2, 2, row, y_row, where_row);
  }
}

}  // namespace

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
      if (k == 2 && s == 2)
        pool_channel_2x2(x, is.w, os.h, os.w, channel, y, where);
      else
        pool_channel(x, is.w, os.h, os.w, k, s, channel, y, where);
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
