// Gradient-flow facts from the literature, measured at init through the real training path.
#include <catch2/catch.hpp>

#include <cmath>

#include "support.hpp"

using namespace gradflow;
using Catch::Matchers::WithinAbs;

namespace {

Config deep_net(Activation act, WeightInit init, long depth, long width) {
  Config c;
  c.seed = 7;
  c.data.kind = DataKind::gaussian_mixture;
  // Input as wide as the hidden layers: with a narrow input, layer 1's weight gradient is
  // smaller only because ||x|| < ||a|| (delta_norm stays flat), which is not vanishing.
  c.data.dim = width;
  c.data.classes = 4;
  c.data.train_size = 256;
  c.data.probe_size = 256;
  c.model.depth = depth;
  c.model.width = {width};
  c.model.activation = act;
  c.model.init = init;
  c.train.steps = 0;
  c.train.batch_size = 128;
  return c;
}

const std::vector<LayerRecord>& at_init(const test::InMemoryRun& run) {
  REQUIRE(!run.records.layers.empty());
  return run.records.layers.front();
}

}  // namespace

TEST_CASE("sigmoid with Xavier init vanishes over 30 layers, relu with He init does not",
          "[flow]") {
  const auto sigmoid = test::run_in_memory(
      deep_net(Activation::sigmoid, WeightInit::xavier_normal, 30, 256));
  const auto relu = test::run_in_memory(deep_net(Activation::relu, WeightInit::he_normal, 30, 256));
  const auto& s = at_init(sigmoid);
  const auto& r = at_init(relu);
  const double sigmoid_ratio = s.front().grad_w_norm / s.back().grad_w_norm;
  const double relu_ratio = r.front().grad_w_norm / r.back().grad_w_norm;
  INFO("sigmoid first/last grad_w_norm = " << sigmoid_ratio);
  REQUIRE(sigmoid_ratio < 1e-2);
  INFO("relu first/last grad_w_norm = " << relu_ratio);
  REQUIRE(relu_ratio > 0.1);
  REQUIRE(relu_ratio < 10.0);
  // He init preserves the back-propagated signal itself (He et al. 2015, eq. 14).
  const double relu_delta_ratio = r.front().delta_norm / r.back().delta_norm;
  INFO("relu first/last delta_norm = " << relu_delta_ratio);
  REQUIRE(relu_delta_ratio > 0.5);
  REQUIRE(relu_delta_ratio < 2.0);
  // The summary states the same fact in log10.
  REQUIRE_THAT(sigmoid.result.summary.grad_ratio_log10_init,
               WithinAbs(std::log10(sigmoid_ratio), 1e-9));
}

TEST_CASE("a bias far below the pre-activation scale kills relu units at birth, not leaky_relu",
          "[flow]") {
  Config relu = deep_net(Activation::relu, WeightInit::he_normal, 4, 64);
  relu.model.bias_init = {BiasInit::constant, -10.0, 0, 0};
  Config leaky = relu;
  leaky.model.activation = Activation::leaky_relu;

  const auto relu_run = test::run_in_memory(relu);
  const auto& r = at_init(relu_run).front();
  INFO("relu layer 1: dead " << r.dead_fraction << ", inactive " << r.inactive_fraction);
  REQUIRE(r.dead_fraction == 1.0);
  REQUIRE(r.inactive_fraction == 1.0);

  const auto leaky_run = test::run_in_memory(leaky);
  const auto& l = at_init(leaky_run).front();
  INFO("leaky_relu layer 1: dead " << l.dead_fraction << ", inactive " << l.inactive_fraction);
  REQUIRE(l.dead_fraction == 0.0);
  REQUIRE(l.inactive_fraction == 1.0);
}

TEST_CASE("tanh units saturate under a large init gain and not under Xavier's",
          "[flow]") {
  Config c = deep_net(Activation::tanh, WeightInit::xavier_normal, 10, 128);
  c.model.init_gain = 4.0;
  const auto big_run = test::run_in_memory(c);
  c.model.init_gain = 1.0;
  const auto unit_run = test::run_in_memory(c);
  const auto& big = at_init(big_run);
  const auto& unit = at_init(unit_run);
  INFO("saturated fraction, layer 5: gain 4 " << big[4].saturated_fraction << ", gain 1 "
                                               << unit[4].saturated_fraction);
  REQUIRE(big[4].saturated_fraction > 0.3);
  REQUIRE(unit[4].saturated_fraction < 0.05);
}
