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

// Euclidean norm that neither underflows nor overflows in its squares (values of 1e-200
// are legitimate in a depth-1000 sigmoid net): the fast path is plain double accumulation;
// only when that result sits near the edges of double's range is it redone with scaling.
template <class T>
double norm(const T* data, std::size_t n) {
  const double s = squared_norm(data, n);
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

template <class Derived>
double norm(const Eigen::DenseBase<Derived>& m) {
  static_assert(Derived::IsVectorAtCompileTime || true);
  // Only contiguous storage is supported: matrices, vectors and their Maps.
  return norm(m.derived().data(), static_cast<std::size_t>(m.size()));
}

}  // namespace gradflow
