// Mean-field predictions against closed forms (Poole et al. 2016; He et al. 2015) and, for
// relu with He init, against a measured network at init.
#include <catch2/catch.hpp>

#include <cmath>

#include "support.hpp"
#include "theory.hpp"

using namespace gradflow;
using Catch::Matchers::WithinAbs;

TEST_CASE("Gauss-Hermite expectations of known functions", "[theory]") {
  REQUIRE_THAT(gaussian_expectation([](double z) { return z * z; }), WithinAbs(1.0, 1e-12));
  REQUIRE_THAT(gaussian_expectation([](double z) { return z * z * z * z; }), WithinAbs(3.0, 1e-11));
  REQUIRE_THAT(gaussian_expectation([](double z) { return std::cos(z); }),
               WithinAbs(std::exp(-0.5), 1e-12));
  // A kink converges more slowly: E[max(z, 0)^2] = 1/2.
  REQUIRE_THAT(gaussian_expectation([](double z) { return z > 0 ? z * z : 0.0; }),
               WithinAbs(0.5, 1e-3));
}

TEST_CASE("relu: sigma_w^2 = 2 keeps the back-propagated signal, sigma_w^2 = 1 halves its square",
          "[theory]") {
  const ActivationSpec relu{Activation::relu, 0};
  const std::vector<long> widths(10, 64);
  const FlowPrediction he = predict_flow(relu, std::vector<double>(11, 2.0), 0.0, 1.0, widths, 64);
  for (double chi : he.chi) REQUIRE_THAT(chi, WithinAbs(1.0, 1e-12));
  for (double d : he.delta_log10) REQUIRE_THAT(d, WithinAbs(0.0, 1e-12));
  // Forward second moments are preserved too (q_l = q_input), so weight gradients stay flat.
  for (double g : he.grad_w_log10) REQUIRE_THAT(g, WithinAbs(0.0, 1e-3));

  const FlowPrediction half = predict_flow(relu, std::vector<double>(11, 1.0), 0.0, 1.0, widths, 64);
  for (std::size_t l = 0; l < 10; ++l) {
    INFO("layer " << l + 1);
    REQUIRE_THAT(2 * (half.delta_log10[l] - half.delta_log10[l + 1]),
                 WithinAbs(std::log10(0.5), 1e-12));
  }
  // ... but the weight gradient does not vanish: the forward moments shrink by the same 1/2.
  REQUIRE_THAT(half.grad_w_log10.front(), WithinAbs(0.0, 1e-3));
}

TEST_CASE("tanh at sigma_w^2 = 1, sigma_b^2 = 0 sits at chi = 1", "[theory]") {
  const ActivationSpec tanh_act{Activation::tanh, 0};
  const std::vector<long> widths(5, 64);
  // At the fixed point q* = 0, chi = sigma_w^2 phi'(0)^2 = 1 (Schoenholz et al. 2017).
  const FlowPrediction p = predict_flow(tanh_act, std::vector<double>(6, 1.0), 0.0, 1e-12, widths, 64);
  for (double chi : p.chi) REQUIRE_THAT(chi, WithinAbs(1.0, 1e-9));
  // From q = 1 the net still converges towards it: chi increases with depth, below 1.
  const FlowPrediction q1 = predict_flow(tanh_act, std::vector<double>(6, 1.0), 0.0, 1.0, widths, 64);
  for (std::size_t l = 1; l < q1.chi.size(); ++l) {
    REQUIRE(q1.chi[l] > q1.chi[l - 1]);
    REQUIRE(q1.chi[l] < 1.0);
  }
}

TEST_CASE("sigmoid with Xavier variance: the predicted decay matches a measured 20-layer net",
          "[theory]") {
  // Measured: a gaussian_targets net (errors uncorrelated across examples), width 256.
  Config c;
  c.data.kind = DataKind::gaussian_targets;
  c.data.dim = 256;
  c.data.outputs = 8;
  c.data.train_size = 256;
  c.data.probe_size = 16;
  c.train.loss = Loss::mse;
  c.train.steps = 0;
  c.train.batch_size = 256;
  c.model.depth = 20;
  c.model.width = {256};
  c.model.activation = Activation::sigmoid;
  c.model.init = WeightInit::lecun_normal;  // sigma_w^2 = 1 for every layer
  double measured = 0;
  const int seeds = 4;
  for (int s = 0; s < seeds; ++s) {
    c.seed = std::uint64_t(100 + s);
    const auto run = test::run_in_memory(c);
    const auto& layers = run.records.layers.front();
    measured += std::log10(layers.front().delta_norm / layers.back().delta_norm) / seeds;
  }
  const FlowPrediction p = predict_flow({Activation::sigmoid, 0}, std::vector<double>(21, 1.0),
                                        0.0, 1.0, std::vector<long>(20, 256), 256);
  INFO("measured log10 delta ratio " << measured << ", predicted " << p.delta_log10.front());
  REQUIRE_THAT(measured, WithinAbs(p.delta_log10.front(), 0.2));
}
