// Activations: values and derivatives at hand-computed points, derivatives against finite
// differences, the float/double array kernels against the scalar reference, saturation at
// +-1000, sup |phi'| against a dense grid, and the name table.

// GCC 12 false positive in its AVX-512 intrinsics (see harness/nn/activation.cpp).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/activation.hpp"

namespace {

using namespace gradflow;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

constexpr double kLambda = 1.0507009873554804934;  // SELU (Klambauer et al. 2017)
constexpr double kAlpha = 1.6732632423543772848;

// Every activation, with the parameters experiments use (two values where there is one).
// Every activation of the enum (a new one cannot escape these tests), plus other parameters.
std::vector<ActivationSpec> all_specs() {
  std::vector<ActivationSpec> out;
  for (std::size_t i = 0; i < kActivationCount; ++i) {
    const Activation k = Activation(i);
    out.push_back({k, k == Activation::leaky_relu ? 0.01 : k == Activation::elu ? 1.0 : 0.0});
  }
  out.push_back({Activation::leaky_relu, 0.2});
  out.push_back({Activation::elu, 1.5});
  return out;
}

std::string describe(const ActivationSpec& a) {
  return std::string(activation_name(a.kind)) + "(" + std::to_string(a.param) + ")";
}

// Kinks at 0 where the finite difference straddles two branches.
bool has_kink(Activation k) {
  return k == Activation::relu || k == Activation::leaky_relu || k == Activation::elu ||
         k == Activation::selu;
}

}  // namespace

TEST_CASE("activation values and derivatives at hand-computed points", "[activation]") {
  struct Case {
    ActivationSpec a;
    double x, value, derivative;
  };
  // Closed forms evaluated to 17 digits (mpmath): e.g. sigmoid'(2) = s(2)(1 - s(2)),
  // gelu(1) = Phi(1), gelu'(-1) = Phi(-1) - pdf(1), selu(-1) = lambda alpha (e^-1 - 1).
  const Case c = GENERATE(values<Case>({
      {{Activation::identity, 0}, 3.5, 3.5, 1.0},
      {{Activation::identity, 0}, 0.0, 0.0, 1.0},
      {{Activation::relu, 0}, 2.0, 2.0, 1.0},
      {{Activation::relu, 0}, -1.0, 0.0, 0.0},
      {{Activation::relu, 0}, 0.0, 0.0, 0.0},  // phi'(0) = 0: input exactly 0 counts as dead
      {{Activation::leaky_relu, 0.01}, -2.0, -0.02, 0.01},
      {{Activation::leaky_relu, 0.01}, 0.0, 0.0, 0.01},  // left derivative at 0
      {{Activation::leaky_relu, 0.01}, 3.0, 3.0, 1.0},
      {{Activation::sigmoid, 0}, 0.0, 0.5, 0.25},
      {{Activation::sigmoid, 0}, 2.0, 0.88079707797788244, 0.10499358540350652},
      {{Activation::tanh, 0}, 0.0, 0.0, 1.0},
      {{Activation::tanh, 0}, 1.0, 0.76159415595576489, 0.41997434161402607},
      {{Activation::elu, 1.0}, -1.0, -0.63212055882855768, 0.36787944117144232},
      {{Activation::elu, 1.0}, 0.0, 0.0, 1.0},
      {{Activation::elu, 1.0}, 2.0, 2.0, 1.0},
      {{Activation::elu, 2.0}, -1.0, -1.2642411176571154, 0.73575888234288464},
      {{Activation::elu, 2.0}, 0.0, 0.0, 2.0},  // left derivative alpha
      {{Activation::selu, 0}, -1.0, -1.1113307378125628, 0.6467686030348141},
      {{Activation::selu, 0}, 1.0, kLambda, kLambda},
      {{Activation::selu, 0}, 0.0, 0.0, kLambda * kAlpha},
      {{Activation::gelu, 0}, 1.0, 0.84134474606854295, 1.0833154705876863},
      {{Activation::gelu, 0}, 0.0, 0.0, 0.5},
      {{Activation::gelu, 0}, -1.0, -0.15865525393145705, -0.083315470587686298},
      {{Activation::silu, 0}, 1.0, 0.73105857863000488, 0.92767051187148673},
      {{Activation::silu, 0}, 0.0, 0.0, 0.5},
      {{Activation::silu, 0}, -2.0, -0.23840584404423511, -0.090784248784895479},
      {{Activation::softplus, 0}, 0.0, 0.69314718055994531, 0.5},
      {{Activation::softplus, 0}, 1.0, 1.3132616875182228, 0.73105857863000488},
      {{Activation::softplus, 0}, -3.0, 0.048587351573742059, 0.047425873177566781},
      {{Activation::softplus, 0}, 1000.0, 1000.0, 1.0},
      {{Activation::softplus, 0}, -1000.0, 0.0, 0.0},
  }));
  const double value = activation_value(c.a, c.x);
  const double derivative = activation_derivative(c.a, c.x);
  INFO(describe(c.a) << " at x = " << c.x << ": value " << value << ", derivative " << derivative);
  REQUIRE_THAT(value, WithinRel(c.value, 1e-14) || WithinAbs(c.value, 1e-300));
  REQUIRE_THAT(derivative, WithinRel(c.derivative, 1e-14) || WithinAbs(c.derivative, 1e-300));
}

TEST_CASE("derivative matches a finite difference of the value", "[activation]") {
  const ActivationSpec a = GENERATE(from_range(all_specs()));
  // Five-point stencil: truncation error ~h^4 f^(5) / 30 ~ 1e-13, rounding ~1e-13 |f|.
  const double h = 1e-3;
  for (double x = -8.0; x <= 8.0; x += 0.37) {
    if (has_kink(a.kind) && std::abs(x) < 4 * h) continue;
    const auto f = [&](double t) { return activation_value(a, t); };
    const double fd = (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h);
    const double d = activation_derivative(a, x);
    INFO(describe(a) << " at x = " << x << ": analytic " << d << ", finite difference " << fd);
    // The absolute floor covers points where phi' itself is ~0 (tanh at 8, silu near -1.28).
    REQUIRE_THAT(fd, WithinRel(d, 1e-7) || WithinAbs(d, 1e-10));
  }
}

TEST_CASE("derivative at 0 takes the left branch", "[activation]") {
  CHECK(activation_derivative({Activation::relu, 0.0}, 0.0) == 0.0);
  CHECK(activation_derivative({Activation::relu, 0.0}, -0.0) == 0.0);
  CHECK(activation_derivative({Activation::leaky_relu, 0.1}, 0.0) == 0.1);
  CHECK(activation_derivative({Activation::elu, 1.5}, 0.0) == 1.5);
  CHECK_THAT(activation_derivative({Activation::selu, 0.0}, 0.0),
             WithinRel(kLambda * kAlpha, 1e-15));
  // Both branches agree on the value at 0.
  for (const ActivationSpec& a : all_specs()) {
    INFO(describe(a));
    CHECK(activation_value(a, 0.0) == (a.kind == Activation::sigmoid    ? 0.5
                                       : a.kind == Activation::softplus ? std::log(2.0)
                                                                        : 0.0));
  }
}

TEMPLATE_TEST_CASE("array kernel equals the scalar reference", "[activation]", float, double) {
  using T = TestType;
  constexpr bool is_float = std::is_same_v<T, float>;
  const ActivationSpec a = GENERATE(from_range(all_specs()));
  INFO(describe(a) << (is_float ? " float" : " double"));

  // [-30, 30] every 0.025 (into both saturated tails) plus edge cases; 19 rows so the packet
  // loop and its scalar remainder both run.
  std::vector<T> points;
  for (int i = 0; i <= 2400; ++i) points.push_back(T(-30.0 + 0.025 * i));
  for (double v : {0.0, -0.0, 1e-3, -1e-3, 1e-7, -1e-7, 1e-30, -1e-30, 50.0, -50.0, 100.0, -100.0,
                   1000.0, -1000.0, 1e30, -1e30})
    points.push_back(T(v));
  const long rows = 19, cols = (long(points.size()) + rows - 1) / rows;
  points.resize(std::size_t(rows * cols), T(0.5));

  // z lives inside a larger matrix so the kernel also sees an outer stride.
  Mat<T> big = Mat<T>::Constant(rows + 3, cols + 2, T(7));
  for (long j = 0; j < cols; ++j)
    for (long i = 0; i < rows; ++i) big(i + 2, j + 1) = points[std::size_t(j * rows + i)];
  const Mat<T> z = big.block(2, 1, rows, cols);

  Mat<T> out_big = Mat<T>::Zero(rows + 3, cols + 2);
  Mat<T> dphi(rows, cols);
  activate<T>(a, big.block(2, 1, rows, cols), out_big.block(2, 1, rows, cols), &dphi);
  const Mat<T> out = out_big.block(2, 1, rows, cols);
  REQUIRE(out.allFinite());  // checked first: NaN would slip through the max() below
  REQUIRE(dphi.allFinite());

  // Two measures. "Scaled": |error| / max(1, |exact|), i.e. absolute near 0. "Relative":
  // |error| / |exact| wherever exact is a normal number, so saturated tails keep their tiny
  // values (what the vanishing-gradient probes measure); it skips phi' near its zero for silu
  // (-1.28) and gelu (-0.75), where every formula cancels (the relative error there grows like
  // 1/|phi'|; without FMA, e.g. the sanitizer build's -march=x86-64, it reaches ~10 eps at
  // |phi'| = 0.01, hence the 0.05 window).
  const double eps = std::numeric_limits<T>::epsilon();
  const double tiny = double(std::numeric_limits<T>::min()) * 1e8;
  double scaled_value = 0, scaled_derivative = 0, rel_value = 0, rel_derivative = 0;
  for (long j = 0; j < cols; ++j) {
    for (long i = 0; i < rows; ++i) {
      const double x = double(z(i, j));
      const double v = activation_value(a, x), d = activation_derivative(a, x);
      const double ev = std::abs(out(i, j) - v), ed = std::abs(dphi(i, j) - d);
      scaled_value = std::max(scaled_value, ev / std::max(1.0, std::abs(v)));
      scaled_derivative = std::max(scaled_derivative, ed / std::max(1.0, std::abs(d)));
      if (std::abs(v) > tiny) rel_value = std::max(rel_value, ev / std::abs(v));
      const bool near_zero_of_derivative = std::abs(x) < 2 && std::abs(d) < 5e-2;
      if (std::abs(d) > tiny && !near_zero_of_derivative)
        rel_derivative = std::max(rel_derivative, ed / std::abs(d));
    }
  }
  INFO("worst scaled error: value " << scaled_value << ", derivative " << scaled_derivative
                                    << "; worst relative error: value " << rel_value
                                    << ", derivative " << rel_derivative << " (eps " << eps << ")");
  // Float GELU uses (1 + erf)/2, which cancels in the left tail (documented in activation.cpp):
  // ~5 eps absolute there, and no relative accuracy once Phi(z) < eps.
  const bool float_gelu = is_float && a.kind == Activation::gelu;
  REQUIRE(scaled_value <= (float_gelu ? 8 : 4) * eps);
  REQUIRE(scaled_derivative <= 4 * eps);
  if (!float_gelu) {
    REQUIRE(rel_value <= 8 * eps);
    REQUIRE(rel_derivative <= 8 * eps);
  }

  // The frame around the block is untouched.
  REQUIRE(out_big.topRows(2).isZero(0));
  REQUIRE(out_big.bottomRows(1).isZero(0));
  REQUIRE(out_big.leftCols(1).isZero(0));
  REQUIRE(out_big.rightCols(1).isZero(0));

  // Variants on the same contiguous layout must agree bit for bit. (Across layouts they may
  // differ by an ulp: Eigen evaluates the packet body and the scalar remainder of a loop with
  // different exp/erf code, and which elements fall in the remainder depends on the stride.)
  Mat<T> ref_out(rows, cols), ref_dphi(rows, cols);
  activate<T>(a, z, ref_out, &ref_dphi);
  REQUIRE(ref_out.isApprox(out, 4 * std::numeric_limits<T>::epsilon()));
  SECTION("without dphi the values are the same") {
    Mat<T> out2(rows, cols);
    activate<T>(a, z, out2, nullptr);
    REQUIRE((out2 == ref_out));
  }
  SECTION("in place (out aliases z) gives the same values and derivatives") {
    Mat<T> buffer = z;
    Mat<T> dphi2 = Mat<T>::Constant(rows, cols, T(-3));
    activate<T>(a, buffer, buffer, &dphi2);
    REQUIRE((buffer == ref_out));
    REQUIRE((dphi2 == ref_dphi));
  }
}

TEMPLATE_TEST_CASE("saturated inputs give finite, correct limits", "[activation]", float, double) {
  using T = TestType;
  const ActivationSpec a = GENERATE(from_range(all_specs()));
  INFO(describe(a) << (std::is_same_v<T, float> ? " float" : " double"));
  // Each row holds one input; 37 columns put every input both in full packets and in the
  // scalar remainder of Eigen's loop, which use different exp code.
  const std::array<double, 4> inputs = {-1000.0, 1000.0, -1e30, 1e30};
  const long cols = 37;
  Mat<T> z(4, cols);
  for (long i = 0; i < 4; ++i) z.row(i).setConstant(T(inputs[std::size_t(i)]));
  Mat<T> out(4, cols), dphi(4, cols);
  activate<T>(a, z, out, &dphi);
  INFO("phi(-1000) = " << out(0, 0) << ", phi(1000) = " << out(1, 0)
                       << ", phi'(-1000) = " << dphi(0, 0) << ", phi'(1000) = " << dphi(1, 0));
  REQUIRE(out.allFinite());
  REQUIRE(dphi.allFinite());

  // Limits at +-1000 from the formulas; "0" allows Eigen's clamped exp (~1e-39 in float).
  for (long i = 0; i < 2; ++i) {
    const double x = inputs[std::size_t(i)];
    const double v = activation_value(a, x), d = activation_derivative(a, x);
    for (long j = 0; j < cols; ++j) {
      INFO("x = " << x << ", column " << j << ": phi " << out(i, j) << ", phi' " << dphi(i, j));
      REQUIRE_THAT(double(out(i, j)), WithinRel(v, 1e-6) || WithinAbs(v, 1e-30));
      REQUIRE_THAT(double(dphi(i, j)), WithinRel(d, 1e-6) || WithinAbs(d, 1e-30));
    }
  }
}

TEST_CASE("saturated limits of the scalar functions", "[activation]") {
  CHECK(activation_value({Activation::sigmoid, 0}, -1000.0) == 0.0);
  CHECK(activation_value({Activation::sigmoid, 0}, 1000.0) == 1.0);
  CHECK(activation_value({Activation::softplus, 0}, 1000.0) == 1000.0);
  CHECK(activation_value({Activation::silu, 0}, -1000.0) == 0.0);  // -0, not NaN
  CHECK(activation_value({Activation::elu, 1.5}, -1000.0) == -1.5);
  CHECK_THAT(activation_value({Activation::selu, 0}, -1000.0), WithinRel(-kLambda * kAlpha, 1e-15));
  CHECK(activation_value({Activation::gelu, 0}, -1000.0) == 0.0);
  CHECK(activation_derivative({Activation::tanh, 0}, 1000.0) == 0.0);
  CHECK(activation_derivative({Activation::sigmoid, 0}, -1000.0) == 0.0);
}

TEST_CASE("activation_max_derivative is sup |phi'|", "[activation]") {
  const ActivationSpec a = GENERATE(from_range(all_specs()));
  const double sup = activation_max_derivative(a);
  double grid_max = 0;
  for (long k = -200000; k <= 200000; ++k) {  // [-20, 20], step 1e-4
    grid_max = std::max(grid_max, std::abs(activation_derivative(a, k * 1e-4)));
  }
  INFO(describe(a) << ": sup " << sup << ", max on grid " << grid_max);
  REQUIRE(grid_max <= sup * (1 + 1e-12));
  REQUIRE(sup - grid_max < 1e-3);
}

TEST_CASE("GELU and SiLU derivative maxima sit where the closed forms say", "[activation]") {
  // GELU: phi'' = pdf(x)(2 - x^2) = 0 at sqrt2. SiLU: x tanh(x/2) = 2 at x* ~ 2.39935728.
  const ActivationSpec gelu{Activation::gelu, 0}, silu{Activation::silu, 0};
  const double xg = std::sqrt(2.0), xs = 2.3993572805154677;
  CHECK_THAT(xs * std::tanh(xs / 2), WithinRel(2.0, 1e-15));
  CHECK_THAT(activation_derivative(gelu, xg), WithinRel(1.1289041451851548, 1e-15));
  CHECK_THAT(activation_max_derivative(gelu), WithinRel(activation_derivative(gelu, xg), 1e-15));
  CHECK_THAT(activation_max_derivative(silu), WithinRel(activation_derivative(silu, xs), 1e-15));
  for (double dx : {-1e-3, 1e-3}) {
    CHECK(activation_derivative(gelu, xg + dx) < activation_max_derivative(gelu));
    CHECK(activation_derivative(silu, xs + dx) < activation_max_derivative(silu));
  }
}

TEST_CASE("activation names round-trip, aliases parse, unknown names are rejected",
          "[activation]") {
  for (std::size_t i = 0; i < kActivationCount; ++i) {
    const auto kind = static_cast<Activation>(i);
    Activation parsed = Activation::identity;
    INFO(activation_name(kind));
    REQUIRE(parse_activation(activation_name(kind), parsed));
    REQUIRE(parsed == kind);
    REQUIRE(kActivationNames[i] == activation_name(kind));
  }
  Activation parsed = Activation::relu;
  REQUIRE(parse_activation("linear", parsed));
  REQUIRE(parsed == Activation::identity);
  REQUIRE(parse_activation("swish", parsed));
  REQUIRE(parsed == Activation::silu);

  const std::string bad =
      GENERATE(as<std::string>{}, "", "ReLU", "relu ", "leaky", "mish", "prelu", "gelu_tanh");
  INFO("name '" << bad << "'");
  parsed = Activation::tanh;
  REQUIRE_FALSE(parse_activation(bad, parsed));
  REQUIRE(parsed == Activation::tanh);  // untouched on failure
}
