// Activation functions: scalar value/derivative in double (tests, theory) and the vectorised
// array kernel used in training. Each case states its formula, its paper and phi'(0).

#include "nn/activation.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <type_traits>
#include <unsupported/Eigen/SpecialFunctions>  // array erf()/erfc()

#include "base/errors.hpp"

namespace gradflow {

// Names in enum order; parse_activation also accepts the aliases "linear" and "swish".
constexpr std::array<std::string_view, kActivationCount> kActivationNames = {
    "identity", "relu", "leaky_relu", "sigmoid", "tanh", "elu", "selu", "gelu", "silu", "softplus",
};
static_assert(static_cast<std::size_t>(Activation::softplus) + 1 == kActivationCount,
              "add the new activation to kActivationNames and to every switch");
static_assert(std::none_of(kActivationNames.begin(), kActivationNames.end(),
                           [](std::string_view n) { return n.empty(); }),
              "kActivationNames has fewer entries than kActivationCount");

namespace {

// SELU's fixed point constants (Klambauer et al. 2017, "Self-Normalizing Neural Networks",
// eq. 2 and the constants after Theorem 1).
constexpr double kSeluLambda = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kInvSqrt2 = 0.70710678118654752440084436210485;
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;  // 1 / sqrt(2 pi)
// argmax of silu' solves 2 + x (1 - 2 sigmoid(x)) = 0, i.e. x tanh(x/2) = 2 (set silu'' = 0);
// root and maximum computed once with mpmath at 40 digits (tests re-check both).
constexpr double kSiluArgMax = 2.3993572805154676678;
constexpr double kSiluMaxDerivative = 1.0998393201288669170;

// Logistic sigmoid without overflow: exp is only taken of a non-positive number.
double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

// Standard normal CDF and density. erfc(-x/sqrt2)/2 keeps relative accuracy in the left tail
// where (1 + erf)/2 cancels.
double normal_cdf(double x) { return 0.5 * std::erfc(-x * kInvSqrt2); }
double normal_pdf(double x) { return kInvSqrt2Pi * std::exp(-0.5 * x * x); }

// The kernels write leaky ReLU as max(z, slope z), which is only that function for slope in
// [0, 1]; config validation rejects other values, so reaching here with one is a bug.
double leaky_slope(const ActivationSpec& a) {
  GF_ASSERT(a.param >= 0.0 && a.param <= 1.0);
  return a.param;
}

}  // namespace

std::string_view activation_name(Activation a) {
  const auto i = static_cast<std::size_t>(a);
  GF_ASSERT(i < kActivationCount);
  return kActivationNames[i];
}

bool parse_activation(std::string_view name, Activation& out) {
  if (name == "linear") name = "identity";
  if (name == "swish") name = "silu";
  for (std::size_t i = 0; i < kActivationCount; ++i) {
    if (kActivationNames[i] == name) {
      out = static_cast<Activation>(i);
      return true;
    }
  }
  return false;
}

// Convention at kinks: x <= 0 takes the left branch in relu, leaky_relu, elu and selu, so the
// value is continuous and phi'(0) is the left derivative.
double activation_value(const ActivationSpec& a, double x) {
  switch (a.kind) {
    case Activation::identity:
      return x;
    case Activation::relu:  // max(0, x) (Nair & Hinton 2010)
      return x > 0 ? x : 0.0;
    case Activation::leaky_relu:  // max(a x, x) for 0 <= a < 1 (Maas et al. 2013)
      return x > 0 ? x : leaky_slope(a) * x;
    case Activation::sigmoid:  // 1 / (1 + e^-x)
      return sigmoid(x);
    case Activation::tanh:
      return std::tanh(x);
    case Activation::elu:  // x > 0 ? x : alpha (e^x - 1) (Clevert et al. 2016)
      return x > 0 ? x : a.param * std::expm1(x);
    case Activation::selu:  // lambda * elu_alpha(x) (Klambauer et al. 2017)
      return kSeluLambda * (x > 0 ? x : kSeluAlpha * std::expm1(x));
    case Activation::gelu:  // x Phi(x), exact erf form (Hendrycks & Gimpel 2016)
      return x * normal_cdf(x);
    case Activation::silu:  // x sigmoid(x) (Elfwing et al. 2018; "swish", Ramachandran 2017)
      return x * sigmoid(x);
    case Activation::softplus:  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), never overflows
      return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
  }
  GF_ASSERT(false && "unknown activation");
  return 0.0;
}

double activation_derivative(const ActivationSpec& a, double x) {
  switch (a.kind) {
    case Activation::identity:
      return 1.0;
    case Activation::relu:  // phi'(0) = 0: a unit whose input is exactly 0 is dead
      return x > 0 ? 1.0 : 0.0;
    case Activation::leaky_relu:  // phi'(0) = a, the slope of the left piece
      return x > 0 ? 1.0 : leaky_slope(a);
    case Activation::sigmoid:  // s(x) (1 - s(x)) = s(x) s(-x), no cancellation; phi'(0) = 1/4
      return sigmoid(x) * sigmoid(-x);
    case Activation::tanh: {  // 1 - tanh^2 = sech^2 = 4e / (1 + e)^2, e = e^-2|x|; phi'(0) = 1
      const double e = std::exp(-2.0 * std::abs(x));
      return 4.0 * e / ((1.0 + e) * (1.0 + e));
    }
    case Activation::elu:  // alpha e^x on the left; phi'(0) = alpha (= 1, so C1, for alpha = 1)
      return x > 0 ? 1.0 : a.param * std::exp(x);
    case Activation::selu:  // lambda alpha e^x on the left; phi'(0) = lambda alpha ~ 1.7581
      return x > 0 ? kSeluLambda : kSeluLambda * kSeluAlpha * std::exp(x);
    case Activation::gelu:  // Phi(x) + x pdf(x); phi'(0) = 1/2
      return normal_cdf(x) + x * normal_pdf(x);
    case Activation::silu:  // s(x) (1 + x s(-x)); phi'(0) = 1/2
      return sigmoid(x) * (1.0 + x * sigmoid(-x));
    case Activation::softplus:  // sigmoid(x); phi'(0) = 1/2
      return sigmoid(x);
  }
  GF_ASSERT(false && "unknown activation");
  return 0.0;
}

double activation_max_derivative(const ActivationSpec& a) {
  switch (a.kind) {
    case Activation::identity:
    case Activation::relu:
    case Activation::tanh:      // at 0
    case Activation::softplus:  // supremum as x -> inf, never attained
      return 1.0;
    case Activation::leaky_relu:
      return std::max(1.0, leaky_slope(a));
    case Activation::sigmoid:  // at 0
      return 0.25;
    case Activation::elu:  // alpha e^x on the left peaks at x = 0
      return std::max(1.0, std::abs(a.param));
    case Activation::selu:  // left limit at 0: lambda alpha ~ 1.7581 > lambda
      return kSeluLambda * kSeluAlpha;
    case Activation::gelu:
      // phi'' = pdf(x) (2 - x^2) vanishes at x = sqrt2: Phi(sqrt2) + sqrt2 pdf(sqrt2)
      // = (1 + erf(1))/2 + e^-1/sqrt(pi) ~ 1.1289.
      return 0.5 * (1.0 + std::erf(1.0)) + std::exp(-1.0) * std::numbers::inv_sqrtpi;
    case Activation::silu:  // ~1.0998 at x ~ 2.3994, see kSiluArgMax
      return kSiluMaxDerivative;
  }
  GF_ASSERT(false && "unknown activation");
  return 0.0;
}

// Array kernel. Everything is an Eigen array expression assigned straight into `out` or
// `*dphi`: vectorised, no temporaries, no heap allocation. Rules followed below:
//  * no select() and no bool->T cast: neither is vectorised (the cast measured 0.6 ns/element
//    against 0.09 for max(), float, AVX-512). The step "1 where z > 0 else 0" is written
//    min(ceil(max(z, 0)), 1), exact for every z including denormals.
//  * `out` may alias `z` (in-place activation): whatever needs z after `out` is written is
//    computed into `dphi` first. `dphi` must alias neither.
//  * derivatives avoid 1 - s style cancellation so that saturated units keep their tiny but
//    nonzero phi' (it is what the vanishing-gradient probes measure).
//  * accurate functions where Eigen vectorises them (expm1, log1p for float); where it does not
//    (double expm1/log1p/tanh/erf), accuracy wins over speed, except GELU in float (below).
template <class T>
void activate(const ActivationSpec& a, const Eigen::Ref<const Mat<T>>& z, Eigen::Ref<Mat<T>> out,
              Mat<T>* dphi) {
  GF_ASSERT(out.rows() == z.rows() && out.cols() == z.cols());
  if (dphi != nullptr) {
    GF_ASSERT(dphi->rows() == z.rows() && dphi->cols() == z.cols());
    GF_ASSERT(dphi->data() != z.data() && dphi->data() != out.data());
  }
  const bool grad = dphi != nullptr;

  switch (a.kind) {
    case Activation::identity:
      if (grad) dphi->setOnes();
      out = z;
      return;

    case Activation::relu:
      if (grad) dphi->array() = z.array().max(T(0)).ceil().min(T(1));
      out.array() = z.array().max(T(0));
      return;

    case Activation::leaky_relu: {
      const T slope = T(leaky_slope(a));
      if (grad) {
        // step + (1 - step) slope: exactly 1 or exactly slope.
        dphi->array() = z.array().max(T(0)).ceil().min(T(1));
        dphi->array() += (T(1) - dphi->array()) * slope;
      }
      out.array() = z.array().max(slope * z.array());
      return;
    }

    case Activation::sigmoid:
      // s(z) = 1 / (1 + e^-z), not Eigen's logistic(): its float version has relative error
      // up to 3e-4 for z in [-9, -8] and is slower. Saturation is safe: Eigen's vectorised
      // exp clamps its argument (1 + e^1000 is the largest finite T, s(-1000) ~ 1e-39 in
      // float) and std::exp in the loop remainder gives inf, so s(-1000) = 0; never NaN.
      // phi' = s(z) s(-z): s(-z) goes to dphi first, then out = s(z), then the product.
      if (grad) dphi->array() = T(1) / (T(1) + z.array().exp());
      out.array() = T(1) / (T(1) + (-z.array()).exp());
      if (grad) dphi->array() *= out.array();
      return;

    case Activation::tanh:
      if (grad) {
        // sech^2 z = 4e / (1 + e)^2 with e = exp(-2|z|) in [0, 1]: no overflow, no cancellation.
        dphi->array() = (T(-2) * z.array().abs()).exp();
        dphi->array() = T(4) * dphi->array() / (T(1) + dphi->array()).square();
      }
      out.array() = z.array().tanh();
      return;

    case Activation::elu:
    case Activation::selu: {
      // selu = lambda * elu_alpha; elu is lambda = 1. exp(min(z, 0)) never overflows, and
      // step * 1 + (1 - step) * ... picks the branch without select().
      const bool selu = a.kind == Activation::selu;
      const T lambda = T(selu ? kSeluLambda : 1.0);
      const T alpha = T(selu ? kSeluAlpha : a.param);
      if (grad) {
        dphi->array() = z.array().max(T(0)).ceil().min(T(1));
        dphi->array() =
            lambda * (dphi->array() + (T(1) - dphi->array()) * alpha * z.array().min(T(0)).exp());
      }
      out.array() = lambda * (z.array().max(T(0)) + alpha * z.array().min(T(0)).expm1());
      return;
    }

    case Activation::gelu:
      // Phi(z) = (1 + erf(z/sqrt2))/2. Float uses erf because Eigen vectorises it (0.2 ns vs
      // 12 ns for erfc); the cost is an absolute error ~1e-7 |z| in the left tail, where
      // Phi ~ 0 and (1 + erf) cancels. Double uses erfc (neither is vectorised in double).
      if constexpr (std::is_same_v<T, float>) {
        if (grad) {
          dphi->array() = (T(0.5) + T(0.5) * (z.array() * T(kInvSqrt2)).erf()) +
                          z.array() * T(kInvSqrt2Pi) * (T(-0.5) * z.array().square()).exp();
        }
        out.array() = z.array() * (T(0.5) + T(0.5) * (z.array() * T(kInvSqrt2)).erf());
      } else {
        if (grad) {
          dphi->array() = T(0.5) * (z.array() * T(-kInvSqrt2)).erfc() +
                          z.array() * T(kInvSqrt2Pi) * (T(-0.5) * z.array().square()).exp();
        }
        out.array() = z.array() * T(0.5) * (z.array() * T(-kInvSqrt2)).erfc();
      }
      return;

    case Activation::silu:
      // phi' = s(z) (1 + z s(-z)) = (1 + z / (1 + e^z)) / (1 + e^-z): accurate in both tails
      // (the form s + z s (1 - s) loses z * 2^-24 on the right, where s rounds to 1).
      if (grad) {
        dphi->array() = (T(1) + z.array() / (T(1) + z.array().exp())) / (T(1) + (-z.array()).exp());
      }
      out.array() = z.array() / (T(1) + (-z.array()).exp());
      return;

    case Activation::softplus:
      if (grad) dphi->array() = T(1) / (T(1) + (-z.array()).exp());  // sigmoid, see above
      out.array() = z.array().max(T(0)) + (-z.array().abs()).exp().log1p();
      return;
  }
  GF_ASSERT(false && "unknown activation");
}

template void activate<float>(const ActivationSpec&, const Eigen::Ref<const Mat<float>>&,
                              Eigen::Ref<Mat<float>>, Mat<float>*);
template void activate<double>(const ActivationSpec&, const Eigen::Ref<const Mat<double>>&,
                               Eigen::Ref<Mat<double>>, Mat<double>*);

}  // namespace gradflow
