// Eigen aliases shared by every numeric module, and norms accumulated in double.
// Convention, stated once: a batch is stored as columns, shape (features, batch).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace gradflow {

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;  // column-major
template <class T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <class T>
using MatMap = Eigen::Map<Mat<T>>;
template <class T>
using VecMap = Eigen::Map<Vec<T>>;

using MatD = Mat<double>;
using VecD = Vec<double>;

// Sum of squares in double with four accumulators: float32 gradients of ~1e-30 would
// underflow if squared in float, and Eigen's cast<double>().squaredNorm() runs as scalar code.
// Measurements use squared_norm_wide() below; norm() remains for data generation
// (gaussian_mixture's class means), whose values it fixes: switching would move every data set.
template <class T>
double squared_norm(const T* data, std::size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const double a = data[i], b = data[i + 1], c = data[i + 2], d = data[i + 3];
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += d * d;
  }
  for (; i < n; ++i) s0 += double(data[i]) * double(data[i]);
  return (s0 + s1) + (s2 + s3);
}

// Every per-layer norm (layers.csv) and the global gradient norm are sums of squares in
// double, computed chunk by chunk (kNormChunk elements, 16-32 KB: in L1 cache) and within a
// chunk over many independent lanes. A few running sums are chains of dependent adds that run
// at about one element per cycle, which made logging every step cost 20% of a width-64 step.
// Chunks let the optimizer measure each piece of a layer it has just written, in cache, with
// the same arithmetic as a norm taken later over the whole layer.
inline constexpr std::size_t kNormChunk = 4096;
inline constexpr std::size_t kWideLanes = 32;  // 4 AVX-512 or 8 AVX2 registers, no spills

// s + v * v, rounded the same way in every file of a build: an explicit FMA where the CPU has
// one, so a file compiled with -ffp-contract=off (optimizer.cpp) sums exactly as the others.
template <class F>
F add_square(F s, F v) {
#ifdef __FMA__
  return std::fma(v, v, s);
#else
  return s + v * v;
#endif
}

// Sum of squares of one chunk (n <= kNormChunk) in double over kWideLanes lanes: element i
// goes to lane i % kWideLanes and the lanes are combined pairwise.
template <class T>
double squared_norm_chunk(const T* x, std::size_t n) {
  double s[kWideLanes] = {};
  std::size_t i = 0;
  for (; i + kWideLanes <= n; i += kWideLanes)
    for (std::size_t j = 0; j < kWideLanes; ++j) s[j] = add_square(s[j], double(x[i + j]));
  for (std::size_t j = 0; i < n; ++i, ++j) s[j] = add_square(s[j], double(x[i]));
  for (std::size_t w = kWideLanes / 2; w > 0; w /= 2)
    for (std::size_t j = 0; j < w; ++j) s[j] += s[j + w];
  return s[0];
}

// float32 chunks: squares are summed in float over runs of kFloatRun elements per lane and
// only those partial sums are widened to double. Converting every element to double (above)
// is what bounds that loop, at about half the speed of this one. A run of 8 squares in float
// has a relative error below 8 * 2^-24 (5e-7), below the resolution of the float32 values
// themselves. Float squares underflow below |x| ~ 1e-19 and overflow above ~1e19, so a chunk
// whose total lies outside [1e-30, 1e30] is redone entirely in double, as above.
inline constexpr std::size_t kFloatLanes = 64, kFloatRun = 8;

inline double squared_norm_chunk(const float* x, std::size_t n) {
  // Short vectors (biases, small layers): the double loop, without this one's fixed cost of
  // setting up and combining its lanes.
  if (n < kFloatLanes * kFloatRun) return squared_norm_chunk<float>(x, n);
  double lanes[kFloatLanes] = {};
  std::size_t i = 0;
  while (i + kFloatLanes <= n) {  // element i + r * kFloatLanes + j goes to lane j
    const std::size_t rows = std::min(kFloatRun, (n - i) / kFloatLanes);
    float run[kFloatLanes] = {};
    for (std::size_t r = 0; r < rows; ++r, i += kFloatLanes)
      for (std::size_t j = 0; j < kFloatLanes; ++j) run[j] = add_square(run[j], x[i + j]);
    for (std::size_t j = 0; j < kFloatLanes; ++j) lanes[j] += double(run[j]);
  }
  for (std::size_t j = 0; i + j < n; ++j) lanes[j] = add_square(lanes[j], double(x[i + j]));
  for (std::size_t w = kFloatLanes / 2; w > 0; w /= 2)
    for (std::size_t j = 0; j < w; ++j) lanes[j] += lanes[j + w];
  const double total = lanes[0];
  if (total >= 1e-30 && total <= 1e30) return total;
  return squared_norm_chunk<float>(x, n);  // the template: every square in double
}

// Calls chunk(offset, length) for the chunks of [0, n), in order: the one way a norm is split,
// shared by squared_norm_wide() and the optimizer's in-pass measurement, which must agree.
template <class Chunk>
void for_each_norm_chunk(std::size_t n, Chunk chunk) {
  for (std::size_t c = 0; c < n; c += kNormChunk) chunk(c, std::min(kNormChunk, n - c));
}

// Sum of squares over [0, n): the chunks' sums added in order.
template <class T>
double squared_norm_wide(const T* x, std::size_t n) {
  double total = 0;
  for_each_norm_chunk(n, [&](std::size_t c, std::size_t len) {
    total += squared_norm_chunk(x + c, len);
  });
  return total;
}

// Euclidean norm that neither underflows nor overflows in its squares (values of 1e-200
// are legitimate in a depth-1000 sigmoid net): the fast path is plain double accumulation;
// only when that result sits near the edges of double's range is it redone with scaling.
// `s` is squared_norm(data, n), computed by the caller.
template <class T>
double norm_given_squared(const T* data, std::size_t n, double s) {
  if (s > 1e-280 && s < 1e280) return std::sqrt(s);
  if (std::isnan(s)) return s;
  double scale = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = std::abs(double(data[i]));
    if (!(v <= scale)) scale = v;  // also picks up NaN/Inf
  }
  if (scale == 0 || !std::isfinite(scale)) return scale;
  double acc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = double(data[i]) / scale;
    acc += v * v;
  }
  return scale * std::sqrt(acc);
}

// A Euclidean norm summed chunk by chunk from values that are not kept whole (the optimizer's
// update, measured while each chunk is in cache), rescaled like norm_given_squared: a chunk
// whose sum of squares leaves [1e-280, 1e280] is summed again divided by its largest value,
// as LAPACK's dnrm2 does (Blue 1978), so an update of 1e-160 (a depth-400 sigmoid net's first
// layers) neither underflows to 0 nor loses digits. When every chunk is in range the result
// is sqrt(plain), bit for bit the unscaled sum.
struct ChunkedNorm {
  double plain = 0;  // sum of the in-range chunks' squares
  double scale = 0;  // the out-of-range chunks: scale^2 * ssq
  double ssq = 0;

  template <class T>
  void add(const T* x, std::size_t n, double squares) {
    if (squares >= 1e-280 && squares <= 1e280) {
      plain += squares;
      return;
    }
    if (std::isnan(squares)) {
      plain += squares;
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const double v = std::abs(double(x[i]));
      if (v == 0) continue;
      if (!std::isfinite(v)) {
        plain += v * v;  // Inf (or NaN) stays visible
        continue;
      }
      if (v > scale) {
        ssq = 1 + ssq * (scale / v) * (scale / v);
        scale = v;
      } else {
        ssq += (v / scale) * (v / scale);
      }
    }
  }

  double norm() const {
    if (scale == 0 || !std::isfinite(plain)) return std::sqrt(plain);
    const double big = std::max(scale, std::sqrt(plain));
    const double r = scale / big;
    return big * std::sqrt(r * r * ssq + (plain / big) / big);
  }
};

template <class T>
double norm(const T* data, std::size_t n) {
  return norm_given_squared(data, n, squared_norm(data, n));
}

// norm() through squared_norm_wide: for per-layer measurements (see kWideLanes).
template <class T>
double norm_wide(const T* data, std::size_t n) {
  return norm_given_squared(data, n, squared_norm_wide(data, n));
}

template <class Derived>
double norm_wide(const Eigen::DenseBase<Derived>& m) {
  return norm_wide(m.derived().data(), static_cast<std::size_t>(m.size()));
}

template <class Derived>
double norm(const Eigen::DenseBase<Derived>& m) {
  static_assert(Derived::IsVectorAtCompileTime || true);
  // Only contiguous storage is supported: matrices, vectors and their Maps.
  return norm(m.derived().data(), static_cast<std::size_t>(m.size()));
}

}  // namespace gradflow
