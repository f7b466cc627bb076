// Eigen aliases shared by every numeric module, and norms accumulated in double.
// Convention, stated once: a batch is stored as columns, shape (features, batch).
#pragma once

#include <Eigen/Core>
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

// The per-layer measurements (layers.csv) use sums over kWideLanes lanes: squared_norm's four
// sums are chains of dependent adds that run at about one element per cycle, which made
// logging every step cost 20% of a width-64 step; sixteen run about four times faster. They
// differ from squared_norm() in the last bits only. The global gradient norm feeds clipping,
// so it keeps squared_norm() and training trajectories stay bit-identical.
inline constexpr std::size_t kWideLanes = 16;

// Sum of squares in double over kWideLanes independent sums (lane i % kWideLanes), combined
// pairwise.
template <class T>
double squared_norm_wide(const T* x, std::size_t n) {
  double s[kWideLanes] = {};
  std::size_t i = 0;
  for (; i + kWideLanes <= n; i += kWideLanes)
    for (std::size_t j = 0; j < kWideLanes; ++j) s[j] += double(x[i + j]) * double(x[i + j]);
  for (std::size_t j = 0; i < n; ++i, ++j) s[j] += double(x[i]) * double(x[i]);
  for (std::size_t w = kWideLanes / 2; w > 0; w /= 2)
    for (std::size_t j = 0; j < w; ++j) s[j] += s[j + w];
  return s[0];
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
