// Mean-field predictions against closed forms (Poole et al. 2016; He et al. 2015) and, for
// relu with He init, against a measured network at init.
#include <catch2/catch.hpp>

#include <cmath>

#include "support.hpp"
#include "train/theory.hpp"

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

namespace {

// A network at init on MSE against random Gaussian targets, so errors are independent across
// examples: the setting the mean-field recursion describes.
Config wide_net_at_init(Activation activation, WeightInit init, long depth, long width) {
  Config c;
  c.data.kind = DataKind::gaussian_targets;
  c.data.dim = width;
  c.data.outputs = 8;
  c.data.train_size = 64;
  c.data.probe_size = 16;
  c.train.loss = Loss::mse;
  c.train.steps = 0;
  c.train.batch_size = 64;
  c.model.depth = depth;
  c.model.width = {width};
  c.model.activation = activation;
  c.model.init = init;
  return c;
}

}  // namespace

TEST_CASE("measured first/last-layer norms at init agree with the prediction within 0.2 decades",
          "[theory]") {
  // The check: width 512, depth 30, averaged over 8 seeds.
  struct Case {
    const char* name;
    Activation activation;
    WeightInit init;  // he_normal: sigma_w^2 = 2; lecun_normal: sigma_w^2 = 1
  };
  const Case cases[] = {{"relu-He", Activation::relu, WeightInit::he_normal},
                        {"relu sigma_w^2 = 1", Activation::relu, WeightInit::lecun_normal},
                        {"tanh", Activation::tanh, WeightInit::lecun_normal},
                        {"sigmoid", Activation::sigmoid, WeightInit::lecun_normal}};
  for (const Case& k : cases) {
    Config c = wide_net_at_init(k.activation, k.init, 30, 512);
    double delta = 0, grad_w = 0, predicted_delta = 0, predicted_grad_w = 0;
    const int seeds = 8;
    for (int s = 0; s < seeds; ++s) {
      c.seed = std::uint64_t(100 + s);
      const auto run = test::run_in_memory(c);
      const auto& layers = run.records.layers.front();
      delta += std::log10(layers.front().delta_norm / layers.back().delta_norm) / seeds;
      grad_w += std::log10(layers.front().grad_w_norm / layers.back().grad_w_norm) / seeds;
      // Each seed's prediction uses its own drawn weights; they differ by sampling noise only.
      predicted_delta += run.result.summary.theory_delta_ratio_log10 / seeds;
      predicted_grad_w += run.result.summary.theory_grad_ratio_log10 / seeds;
      REQUIRE(run.result.summary.theory_caveats.empty());
    }
    INFO(k.name << ": delta measured " << delta << " predicted " << predicted_delta
                << "; grad_w measured " << grad_w << " predicted " << predicted_grad_w);
    CHECK_THAT(delta, WithinAbs(predicted_delta, 0.2));
    CHECK_THAT(grad_w, WithinAbs(predicted_grad_w, 0.2));
  }
}

TEST_CASE("the prediction is of the drawn network: He init gives sigma_w^2 = 2, relu stays flat",
          "[theory]") {
  const Config c = wide_net_at_init(Activation::relu, WeightInit::he_normal, 10, 256);
  const PreparedRun run = prepare_run(c);
  const FlowInputs in = flow_inputs(c, run.start, run.data.train);
  REQUIRE(in.widths == std::vector<long>(10, 256));
  for (std::size_t l = 0; l < 10; ++l) REQUIRE_THAT(in.sigma_w2[l], WithinAbs(2.0, 0.05));
  REQUIRE_THAT(in.q_input, WithinAbs(1.0, 0.02));  // gaussian_targets inputs are N(0, 1)
  const FlowPrediction p = predict_flow(in);
  REQUIRE_THAT(p.delta_log10.front(), WithinAbs(0.0, 0.1));
}

TEST_CASE("a negative bias shifts every relu unit off: the prediction collapses with depth",
          "[theory]") {
  Config c = wide_net_at_init(Activation::relu, WeightInit::he_normal, 10, 128);
  c.model.bias_init.value = -1.0;
  const PreparedRun run = prepare_run(c);
  const FlowPrediction p = predict_flow(flow_inputs(c, run.start, run.data.train));
  // z ~ N(-1, v): fewer units pass the signal each layer, until every pre-activation is the
  // bias alone (q = 1, no variance) and no gradient gets through: the network is born dead.
  for (std::size_t l = 1; l < p.q.size(); ++l) REQUIRE(p.q[l] <= p.q[l - 1]);
  REQUIRE(p.q.front() > 2.5);  // 2 (He) + 1 (bias squared)
  REQUIRE_THAT(p.q.back(), WithinAbs(1.0, 1e-6));
  REQUIRE(p.chi.back() < 1e-6);
  REQUIRE(p.delta_log10.front() < -6.0);
}

TEST_CASE("theory caveats name narrow layers, low input dimension, correlated errors, loaded weights",
          "[theory]") {
  Config wide = wide_net_at_init(Activation::tanh, WeightInit::lecun_normal, 4, 128);
  REQUIRE(theory_caveats(wide, make_layout(128, {128, 128, 128, 128}, 8)).empty());

  Config c = wide;
  c.train.loss = Loss::cross_entropy;
  c.data.kind = DataKind::gaussian_mixture;
  c.model.init_from = "params";
  const auto caveats = theory_caveats(c, make_layout(2, {32, 32}, 4));
  REQUIRE(caveats.size() == 4);
  CHECK_THAT(caveats[0], Catch::Matchers::Contains("32 units"));
  CHECK_THAT(caveats[1], Catch::Matchers::Contains("input dimension 2"));
  CHECK_THAT(caveats[2], Catch::Matchers::Contains("cross-entropy"));
  CHECK_THAT(caveats[3], Catch::Matchers::Contains("init_from"));
  // Deep for its width: sum of 1/width = 50/100 > 0.25.
  const auto deep = theory_caveats(wide, make_layout(128, std::vector<long>(50, 100), 8));
  REQUIRE(deep.size() == 1);
  CHECK_THAT(deep[0], Catch::Matchers::Contains("0.50"));
}
