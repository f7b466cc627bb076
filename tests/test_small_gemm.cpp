// small_gemm against Eigen's own product, bit for bit: every shape it takes must give the
// bytes `c.noalias() = a * b` (or `+=`) gives, since results
// (steps.csv, the regression baselines) must not change with it. The shapes cover each part
// of Eigen's partition small_gemm mirrors: 3-, 2-, one-, half- and quarter-packet row panels, column counts
// that are and are not multiples of 4, depths around multiples of 8 and above the depth block
// kc, and the step's own shapes (widths 64 and 256 at batch 64, conv patches).
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "nn/small_gemm.hpp"

using namespace gradflow;

namespace {

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

// Random values in [-1, 1], every seventh exactly 0.
template <class T>
Matrix<T> random_with_zeros(long rows, long cols, unsigned seed) {
  std::srand(seed);
  Matrix<T> x = Matrix<T>::Random(rows, cols);
  for (long i = 0; i < x.size(); i += 7) x.data()[i] = T(0);
  return x;
}

bool same_bytes(const auto& x, const auto& y) {
  return x.size() == y.size() &&
         std::memcmp(x.data(), y.data(), sizeof(*x.data()) * std::size_t(x.size())) == 0;
}

// One answer of small_gemm: refused, c is left as it was; taken, it holds Eigen's bytes.
// Returns whether it was taken.
template <class M>
bool check_answer(bool taken, const M& got, const M& start, const M& expected) {
  if (!taken) {
    INFO("refused shapes leave c untouched");
    CHECK(same_bytes(got, start));
    return false;
  }
  INFO("max diff " << (got - expected).cwiseAbs().maxCoeff());
  CHECK(same_bytes(got, expected));
  return true;
}

// One shape, four ways: b plain or transposed, c assigned or accumulated. Returns whether
// small_gemm took it.
template <class T>
bool matches_eigen(long m, long n, long k) {
  const Matrix<T> a = random_with_zeros<T>(m, k, unsigned(m * 7 + n * 3 + k));
  const Matrix<T> b = random_with_zeros<T>(k, n, unsigned(k * 5 + n));
  const Matrix<T> bt = b.transpose();
  const Matrix<T> start = random_with_zeros<T>(m, n, unsigned(m + n));
  bool taken = false;
  for (bool transposed : {false, true})
    for (bool accumulate : {false, true}) {
      Matrix<T> expected = start, got = start;
      if (transposed) {
        if (accumulate) expected.noalias() += a * bt.transpose();
        else expected.noalias() = a * bt.transpose();
      } else {
        if (accumulate) expected.noalias() += a * b;
        else expected.noalias() = a * b;
      }
      const T* bp = transposed ? bt.data() : b.data();
      const long row_step = transposed ? n : 1, col_step = transposed ? 1 : k;
      taken = small_gemm<T>(m, n, k, a.data(), m, bp, row_step, col_step, got.data(), m,
                            accumulate);
      INFO("m " << m << " n " << n << " k " << k << " transposed " << transposed
                << " accumulate " << accumulate);
      if (!check_answer(taken, got, start, expected)) return false;
    }
  return taken;
}

template <class T>
void check_shapes() {
  constexpr long L = Eigen::internal::packet_traits<T>::size;
  long taken = 0, tried = 0;
  // Rows: 3-, 2- and one-packet panels, and half- and quarter-packet ones after them.
  for (long rows : {L, 2 * L, 3 * L, 4 * L, 5 * L, 6 * L, 16 * L, L / 2, L / 4, L + L / 2 + L / 4,
                    3 * L + L / 4, 12 * L + L / 4})
    for (long n : {2L, 3L, 4L, 5L, 9L, 16L, 64L})
      for (long k : {1L, 7L, 8L, 9L, 15L, 64L, 144L, 700L, 1500L}) {
        ++tried;
        taken += matches_eigen<T>(rows, n, k);
      }
  // The step's shapes: dense widths 64 and 256 at batch 64 (z = W a, dW = delta a^T), conv
  // patches (28 x 28 positions, 16 channels of 3 x 3).
  for (auto [m, n, k] : {std::array<long, 3>{64, 64, 64}, {256, 64, 256}, {64, 256, 64},
                         {256, 256, 64}, {784, 16, 144}, {784, 16, 9}, {196, 16, 144}})
    CHECK(matches_eigen<T>(m, n, k));
  // Refused: scalar rows after the quarter packets, matrix-vector products, tiny products.
  CHECK_FALSE(matches_eigen<T>(L + 1, 8, 8));
  CHECK_FALSE(matches_eigen<T>(2 * L, 1, 8));
  CHECK_FALSE(small_gemm_takes<T>(2, 2, 2));
  INFO(taken << " of " << tried << " shapes taken");
  CHECK(taken > tried / 2);
}

}  // namespace

TEST_CASE("small_gemm is bit-identical to Eigen's product, float32", "[small_gemm]") {
  check_shapes<float>();
}

TEST_CASE("small_gemm is bit-identical to Eigen's product, float64", "[small_gemm]") {
  check_shapes<double>();
}

// small_gemm_gathered against Eigen on the same b written out: b(p, j) = planes[rows[p] +
// columns[j]], with rows as a convolution's output positions in plane-wide rows (a gap of
// k - 1 after every `width` positions) and columns as its taps (c_in planes of k x k).
template <class T>
bool gathered_matches_eigen(long m, long channels, long width, long height, long k) {
  const long n = channels * k * k, depth = width * height, plane_width = width + k - 1;
  const long plane = (height + k - 1) * plane_width;
  const Matrix<T> planes = random_with_zeros<T>(channels * plane, 1, unsigned(m + n + depth));
  std::vector<long> rows(std::size_t(depth), 0), columns(std::size_t(n), 0);
  for (long p = 0; p < depth; ++p) rows[std::size_t(p)] = p / width * plane_width + p % width;
  for (long c = 0; c < channels; ++c)
    for (long ky = 0; ky < k; ++ky)
      for (long kx = 0; kx < k; ++kx)
        columns[std::size_t((c * k + ky) * k + kx)] = c * plane + ky * plane_width + kx;
  Matrix<T> b(depth, n);
  for (long p = 0; p < depth; ++p)
    for (long j = 0; j < n; ++j)
      b(p, j) = planes(rows[std::size_t(p)] + columns[std::size_t(j)]);
  const Matrix<T> a = random_with_zeros<T>(m, depth, unsigned(m * 3 + depth));
  const Matrix<T> start = random_with_zeros<T>(m, n, unsigned(m + 5 * n));
  bool taken = false;
  for (bool accumulate : {false, true}) {
    Matrix<T> expected = start, got = start;
    if (accumulate) expected.noalias() += a * b;
    else expected.noalias() = a * b;
    taken = small_gemm_gathered<T>(m, n, depth, a.data(), m, planes.data(), rows.data(),
                                   columns.data(), got.data(), m, accumulate);
    INFO("m " << m << " channels " << channels << " positions " << width << " x " << height
              << " k " << k << " accumulate " << accumulate);
    if (!check_answer(taken, got, start, expected)) return false;
  }
  return taken;
}

template <class T>
void check_gathered_shapes() {
  constexpr long L = Eigen::internal::packet_traits<T>::size;
  long taken = 0, tried = 0;
  // m: the output channels (the weight gradient's rows), every panel kind; the positions
  // span depths below, at and above Eigen's depth block.
  for (long m : {L, 2 * L, 3 * L, L / 2, L / 4, L + L / 2 + L / 4, 16L, 32L})
    for (auto [channels, size, k] : {std::array<long, 3>{1, 28, 3}, {16, 28, 3}, {16, 14, 3},
                                     {3, 7, 5}, {2, 40, 2}, {4, 5, 1}}) {
      ++tried;
      taken += gathered_matches_eigen<T>(m, channels, size, size, k);
    }
  CHECK(gathered_matches_eigen<T>(16, 16, 28, 28, 3));  // the CNN benchmark's dW
  INFO(taken << " of " << tried << " shapes taken");
  CHECK(taken > tried / 2);
}

TEST_CASE("small_gemm_gathered is bit-identical to Eigen's product on the gathered matrix",
          "[small_gemm]") {
  check_gathered_shapes<float>();
  check_gathered_shapes<double>();
}

TEST_CASE("transpose_into transposes whole blocks and the edges", "[small_gemm]") {
  // Packet blocks (short destination columns; every shape with AVX-512), 8 x 8 blocks (long
  // ones with AVX2), and edges of every width on both.
  for (auto [rows, cols] : {std::array<long, 2>{64, 64}, {256, 16}, {13, 21}, {8, 3}, {1, 9},
                            {17, 8}, {784, 16}, {256, 256}, {35, 300}, {40, 70}, {129, 67}}) {
    const Matrix<double> a = random_with_zeros<double>(rows, cols, unsigned(rows * cols));
    Matrix<double> at = Matrix<double>::Constant(cols, rows, -7.0);
    transpose_into(a.data(), rows, cols, at.data());
    INFO(rows << " x " << cols);
    CHECK(at == a.transpose());
    Matrix<float> af = a.cast<float>(), aft(cols, rows);
    transpose_into(af.data(), rows, cols, aft.data());
    CHECK(aft == af.transpose());
  }
}
