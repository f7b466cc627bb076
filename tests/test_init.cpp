// Initializers: empirical moments against each paper's formula, orthogonality and Haar
// symmetry of the orthogonal init, determinism of the draw stream, bias inits, names.

// GCC 12 false positive in its AVX-512 intrinsics (see harness/nn/activation.cpp).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <Eigen/LU>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "nn/init.hpp"

namespace {

using namespace gradflow;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

double mean(const MatD& w) { return w.mean(); }
double variance(const MatD& w) { return (w.array() - w.mean()).square().mean(); }

WeightInitSpec make_spec(WeightInit kind, double gain = 1.0, double leaky_slope = 0.0) {
  WeightInitSpec spec;
  spec.kind = kind;
  spec.gain = gain;
  spec.leaky_slope = leaky_slope;
  return spec;
}

MatD draw(const WeightInitSpec& spec, long fan_out, long fan_in, std::uint64_t seed = 1,
          const char* stream = "init") {
  MatD w(fan_out, fan_in);
  Rng rng = make_rng(seed, stream);
  init_weights(spec, w, rng);
  return w;
}

}  // namespace

TEST_CASE("he_normal has variance 2 / fan_in and mean 0", "[init]") {
  const long n = 1024;
  const MatD w = draw(make_spec(WeightInit::he_normal), n, n);
  const double expected = 2.0 / n;
  INFO("mean " << mean(w) << ", variance " << variance(w) << ", expected " << expected);
  REQUIRE_THAT(variance(w), WithinRel(expected, 0.05));
  // Standard error of the mean is sqrt(2/n) / n ~ 4e-5; allow 5 of them.
  REQUIRE_THAT(mean(w), WithinAbs(0.0, 5 * std::sqrt(expected) / n));
}

TEST_CASE("uniform inits respect their limits and have variance limit^2 / 3", "[init]") {
  const long fan_out = 512, fan_in = 256;
  struct Case {
    WeightInit kind;
    double limit;
  };
  const Case c = GENERATE(values<Case>({
      {WeightInit::xavier_uniform, std::sqrt(6.0 / (512 + 256))},  // Glorot & Bengio eq. 16
      {WeightInit::he_uniform, std::sqrt(6.0 / 256)},              // sqrt(3) * sqrt(2/fan_in)
  }));
  const MatD w = draw(make_spec(c.kind), fan_out, fan_in);
  const double max_abs = w.cwiseAbs().maxCoeff();
  INFO(weight_init_name(c.kind) << ": limit " << c.limit << ", max |w| " << max_abs << ", variance "
                                << variance(w));
  REQUIRE(max_abs <= c.limit);
  REQUIRE(max_abs > 0.999 * c.limit);  // the whole interval is used
  REQUIRE_THAT(variance(w), WithinRel(c.limit * c.limit / 3, 0.05));
  REQUIRE_THAT(mean(w), WithinAbs(0.0, 5 * c.limit / std::sqrt(3.0 * w.size())));
}

TEST_CASE("xavier_normal has variance 2 / (fan_in + fan_out)", "[init]") {
  const MatD w = draw(make_spec(WeightInit::xavier_normal), 384, 640);
  INFO("variance " << variance(w));
  REQUIRE_THAT(variance(w), WithinRel(2.0 / (384 + 640), 0.05));
}

TEST_CASE("a leaky slope a scales He variance by 1 / (1 + a^2)", "[init]") {
  const WeightInit kind = GENERATE(WeightInit::he_normal, WeightInit::he_uniform);
  const double a = 0.5;
  const long fan_in = 512, fan_out = 256;
  const MatD relu = draw(make_spec(kind), fan_out, fan_in);
  const MatD leaky = draw(make_spec(kind, 1.0, a), fan_out, fan_in);
  INFO(weight_init_name(kind) << ": variance relu " << variance(relu) << ", leaky "
                              << variance(leaky));
  // Same stream, so the leaky draw is the ReLU draw rescaled, element for element.
  REQUIRE(leaky.isApprox(relu / std::sqrt(1 + a * a), 1e-14));
  REQUIRE_THAT(variance(leaky), WithinRel(2.0 / ((1 + a * a) * fan_in), 0.05));
}

TEST_CASE("lecun_normal has variance gain^2 / fan_in", "[init]") {
  const double gain = GENERATE(1.0, 1.5);
  const MatD w = draw(make_spec(WeightInit::lecun_normal, gain), 512, 512);
  INFO("gain " << gain << ", variance " << variance(w));
  REQUIRE_THAT(variance(w), WithinRel(gain * gain / 512, 0.05));
}

TEST_CASE("gain multiplies the scaled initializers", "[init]") {
  const WeightInit kind =
      GENERATE(WeightInit::xavier_uniform, WeightInit::xavier_normal, WeightInit::he_uniform,
               WeightInit::he_normal, WeightInit::lecun_normal, WeightInit::orthogonal);
  INFO(weight_init_name(kind));
  const MatD one = draw(make_spec(kind, 1.0), 40, 30);
  const MatD three = draw(make_spec(kind, 3.0), 40, 30);
  REQUIRE(three.isApprox(3.0 * one, 1e-13));
}

TEST_CASE("orthogonal init has orthonormal columns (tall) or rows (wide), times gain", "[init]") {
  struct Shape {
    long fan_out, fan_in;
  };
  const Shape s = GENERATE(values<Shape>({{64, 64}, {128, 32}, {32, 128}, {1, 5}, {5, 1}}));
  const double gain = GENERATE(1.0, 2.0);
  const MatD w = draw(make_spec(WeightInit::orthogonal, gain), s.fan_out, s.fan_in);
  const bool tall = s.fan_out >= s.fan_in;
  const MatD gram = tall ? MatD(w.transpose() * w) : MatD(w * w.transpose());
  const long k = std::min(s.fan_out, s.fan_in);
  const double error = (gram - gain * gain * MatD::Identity(k, k)).cwiseAbs().maxCoeff();
  INFO("shape " << s.fan_out << "x" << s.fan_in << ", gain " << gain << ": max |Gram - g^2 I| "
                << error);
  REQUIRE(error < 1e-10);
}

TEST_CASE("orthogonal init is Haar distributed (sign-corrected QR)", "[init]") {
  // Without multiplying by sign(diag R), Householder QR makes Q(0,0) = -|a00| / ||a_0||,
  // always negative. Under Haar measure on O(3) each entry has mean 0 and mean square 1/3,
  // and det = +1 or -1 with equal probability.
  Rng rng = make_rng(7, "haar");
  const int draws = 4000;
  double sum00 = 0, sum00_sq = 0, sum21 = 0, sum_det = 0;
  MatD w(3, 3);
  for (int t = 0; t < draws; ++t) {
    init_weights(make_spec(WeightInit::orthogonal), w, rng);
    sum00 += w(0, 0);
    sum00_sq += w(0, 0) * w(0, 0);
    sum21 += w(2, 1);
    sum_det += w.determinant();
  }
  INFO("mean W00 " << sum00 / draws << ", mean W00^2 " << sum00_sq / draws << ", mean W21 "
                   << sum21 / draws << ", mean det " << sum_det / draws);
  // Standard errors: entries sqrt(1/3 / 4000) ~ 0.009; det 1/sqrt(4000) ~ 0.016.
  REQUIRE_THAT(sum00 / draws, WithinAbs(0.0, 0.04));
  REQUIRE_THAT(sum21 / draws, WithinAbs(0.0, 0.04));
  REQUIRE_THAT(sum00_sq / draws, WithinAbs(1.0 / 3.0, 0.03));
  REQUIRE_THAT(sum_det / draws, WithinAbs(0.0, 0.08));
}

TEST_CASE("weight_init_std agrees with the empirical std", "[init]") {
  const WeightInit kind =
      GENERATE(WeightInit::normal, WeightInit::uniform, WeightInit::xavier_uniform,
               WeightInit::xavier_normal, WeightInit::he_uniform, WeightInit::he_normal,
               WeightInit::lecun_normal, WeightInit::orthogonal);
  struct Shape {
    long fan_out, fan_in;
  };
  const Shape s = GENERATE(values<Shape>({{300, 200}, {200, 300}, {250, 250}}));
  WeightInitSpec spec = make_spec(kind, 1.3, 0.1);
  spec.std = 0.05;
  spec.limit = 0.07;
  const MatD w = draw(spec, s.fan_out, s.fan_in);
  const double predicted = weight_init_std(spec, s.fan_in, s.fan_out);
  const double empirical = std::sqrt(variance(w));
  INFO(weight_init_name(kind) << " " << s.fan_out << "x" << s.fan_in << ": predicted " << predicted
                              << ", empirical " << empirical);
  // 60000 draws: the std's relative standard error is ~1/sqrt(2n) ~ 0.3%.
  REQUIRE_THAT(empirical, WithinRel(predicted, 0.02));
}

TEST_CASE("the draw stream is fixed: column-major, one draw per element", "[init]") {
  WeightInitSpec spec = make_spec(WeightInit::normal);
  spec.std = 0.5;
  const MatD w = draw(spec, 3, 4, 11, "layer0");
  Rng rng = make_rng(11, "layer0");
  for (long j = 0; j < 4; ++j)
    for (long i = 0; i < 3; ++i) REQUIRE(w(i, j) == 0.5 * rng.normal());

  spec.kind = WeightInit::uniform;
  spec.limit = 0.2;
  const MatD u = draw(spec, 3, 4, 11, "layer0");
  rng = make_rng(11, "layer0");
  for (long j = 0; j < 4; ++j)
    for (long i = 0; i < 3; ++i) REQUIRE(u(i, j) == rng.uniform(-0.2, 0.2));
}

TEST_CASE("same seed and stream reproduce, another stream or seed differs", "[init]") {
  const WeightInit kind =
      GENERATE(WeightInit::normal, WeightInit::uniform, WeightInit::xavier_uniform,
               WeightInit::xavier_normal, WeightInit::he_uniform, WeightInit::he_normal,
               WeightInit::lecun_normal, WeightInit::orthogonal);
  INFO(weight_init_name(kind));
  const WeightInitSpec spec = make_spec(kind);
  const MatD a = draw(spec, 20, 30, 42, "layer0");
  REQUIRE(draw(spec, 20, 30, 42, "layer0") == a);
  REQUIRE((draw(spec, 20, 30, 42, "layer1") - a).cwiseAbs().minCoeff() > 0);
  REQUIRE((draw(spec, 20, 30, 43, "layer0") - a).cwiseAbs().minCoeff() > 0);
}

TEST_CASE("bias init: constant draws nothing, normal has the requested moments", "[init]") {
  SECTION("constant") {
    BiasInitSpec spec;
    spec.kind = BiasInit::constant;
    spec.value = 0.1;
    VecD b(50);
    Rng rng = make_rng(3, "bias");
    init_bias(spec, b, rng);
    REQUIRE((b.array() == 0.1).all());
    Rng fresh = make_rng(3, "bias");
    REQUIRE(rng.next_u64() == fresh.next_u64());  // the stream did not move
  }
  SECTION("normal") {
    BiasInitSpec spec;
    spec.kind = BiasInit::normal;
    spec.mean = 0.3;
    spec.std = 0.1;
    VecD b(200000);
    Rng rng = make_rng(3, "bias");
    init_bias(spec, b, rng);
    const double m = b.mean();
    const double sd = std::sqrt((b.array() - m).square().mean());
    INFO("mean " << m << ", std " << sd);
    REQUIRE_THAT(m, WithinAbs(0.3, 5 * 0.1 / std::sqrt(200000.0)));
    REQUIRE_THAT(sd, WithinRel(0.1, 0.01));
  }
}

TEST_CASE("weight init names round-trip, aliases parse, unknown names are rejected", "[init]") {
  for (std::size_t i = 0; i < kWeightInitCount; ++i) {
    const auto kind = static_cast<WeightInit>(i);
    WeightInit parsed = WeightInit::normal;
    INFO(weight_init_name(kind));
    REQUIRE(parse_weight_init(weight_init_name(kind), parsed));
    REQUIRE(parsed == kind);
  }
  struct Alias {
    const char* name;
    WeightInit kind;
  };
  for (const Alias& alias : {Alias{"glorot_uniform", WeightInit::xavier_uniform},
                             Alias{"glorot_normal", WeightInit::xavier_normal},
                             Alias{"kaiming_uniform", WeightInit::he_uniform},
                             Alias{"kaiming_normal", WeightInit::he_normal}}) {
    WeightInit parsed = WeightInit::normal;
    INFO(alias.name);
    REQUIRE(parse_weight_init(alias.name, parsed));
    REQUIRE(parsed == alias.kind);
  }
  const std::string bad =
      GENERATE(as<std::string>{}, "", "he", "He_normal", "xavier", "orthogonal ", "zeros");
  INFO("name '" << bad << "'");
  WeightInit parsed = WeightInit::lecun_normal;
  REQUIRE_FALSE(parse_weight_init(bad, parsed));
  REQUIRE(parsed == WeightInit::lecun_normal);
}
