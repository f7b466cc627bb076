// Norms summed in double: against a long-double reference at every size the lane layouts
// treat differently, at magnitudes whose squares underflow or overflow the element type, and
// with NaN/Inf, which must come through (they mark a run diverged).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "nn/numeric.hpp"
#include "nn/rng.hpp"

using namespace gradflow;
using Catch::Matchers::WithinRel;

namespace {

template <class T>
std::vector<T> random_values(std::size_t n, double scale, std::uint64_t seed) {
  Rng rng = make_rng(seed, "numeric-test");
  std::vector<T> v(n);
  for (T& x : v) x = T(scale * rng.normal());
  return v;
}

template <class T>
double reference_norm(const std::vector<T>& v) {
  long double s = 0;
  for (T x : v) s += (long double)x * (long double)x;
  return double(std::sqrt(s));
}

// Sizes around every lane and block boundary of the two loops, plus layer-sized ones.
const std::vector<std::size_t> kSizes = {0,   1,   7,   31,  32,   33,   63,   64,   65,  511,
                                         512, 513, 640, 1023, 1024, 1025, 4096, 4100, 65536 + 3};

}  // namespace

TEST_CASE("wide norms agree with a long-double reference at every size", "[numeric]") {
  for (std::size_t n : kSizes)
    for (double scale : {1.0, 1e-3, 1e3}) {
      const auto f = random_values<float>(n, scale, n + 1);
      const auto d = random_values<double>(n, scale, n + 2);
      INFO("n " << n << ", scale " << scale);
      // float: squares summed in float over runs of kFloatRun, so within ~1e-6 relative.
      CHECK_THAT(norm_wide(f.data(), n), WithinRel(reference_norm(f), 1e-6));
      CHECK_THAT(norm_wide(d.data(), n), WithinRel(reference_norm(d), 1e-13));
      CHECK_THAT(norm(d.data(), n), WithinRel(reference_norm(d), 1e-13));
      if (n == 0) CHECK(norm_wide(f.data(), n) == 0.0);
    }
}

TEST_CASE("float norms stay exact where float squares underflow or overflow", "[numeric]") {
  // 1e-25 squared is 1e-50, far below float's smallest normal (1.2e-38): a vanishing-gradient
  // study measures exactly these values. 1e25 squared overflows float.
  for (std::size_t n : {std::size_t(64), std::size_t(4096), std::size_t(5000)})
    for (double scale : {1e-25, 1e-35, 1e-44, 1e25, 1e37}) {
      const auto f = random_values<float>(n, scale, n);
      INFO("n " << n << ", scale " << scale);
      CHECK_THAT(norm_wide(f.data(), n), WithinRel(reference_norm(f), 1e-12));
    }
  // Mixed: a few large values hide many underflowing ones (which then do not matter).
  auto f = random_values<float>(4096, 1e-25, 9);
  f[100] = 3.0f;
  CHECK_THAT(norm_wide(f.data(), f.size()), WithinRel(reference_norm(f), 1e-6));
  // Doubles at the edges of double's range take the rescaled path.
  for (double scale : {1e-200, 1e200}) {
    const auto d = random_values<double>(4096, scale, 11);
    CHECK_THAT(norm_wide(d.data(), d.size()), WithinRel(reference_norm(d), 1e-12));
  }
}

TEST_CASE("NaN and Inf come through every norm", "[numeric]") {
  for (std::size_t n : {std::size_t(10), std::size_t(600), std::size_t(4096)})
    for (std::size_t at : {std::size_t(0), n / 2, n - 1}) {
      auto f = random_values<float>(n, 1.0, 3);
      auto d = random_values<double>(n, 1.0, 4);
      INFO("n " << n << ", at " << at);
      f[at] = std::numeric_limits<float>::quiet_NaN();
      d[at] = std::numeric_limits<double>::quiet_NaN();
      CHECK(std::isnan(norm_wide(f.data(), n)));
      CHECK(std::isnan(norm_wide(d.data(), n)));
      f[at] = std::numeric_limits<float>::infinity();
      d[at] = -std::numeric_limits<double>::infinity();
      CHECK(std::isinf(norm_wide(f.data(), n)));
      CHECK(std::isinf(norm_wide(d.data(), n)));
      // A finite float whose square overflows float is not a divergence.
      f[at] = 3e38f;
      CHECK(std::isfinite(norm_wide(f.data(), n)));
    }
}
