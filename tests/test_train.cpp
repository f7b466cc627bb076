// The training loop: logging schedule, divergence as a result, full-batch gradient descent,
// optimizers against their formulas, clipping, update ratios, determinism, parameters in/out.
#include <catch2/catch.hpp>

#include <cmath>

#include "nn/loss.hpp"
#include "nn/optimizer.hpp"
#include "io/params_io.hpp"
#include "support.hpp"

using namespace gradflow;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

Config small_run() {
  Config c;
  c.seed = 3;
  c.data.train_size = 128;
  c.data.probe_size = 64;
  c.data.dim = 8;
  c.data.classes = 3;
  c.model.depth = 3;
  c.model.width = {16};
  c.train.steps = 25;
  c.train.batch_size = 32;
  c.train.lr = 0.1;
  c.log.every = 10;
  return c;
}

// A plain MLP's tensors alternate W_l, b_l.
const MatD& weight(const Parameters& p, std::size_t layer) { return p.tensors[2 * layer]; }
const MatD& bias(const Parameters& p, std::size_t layer) { return p.tensors[2 * layer + 1]; }
std::size_t dense_layers(const Parameters& p) { return p.tensors.size() / 2; }

double distance(const Parameters& a, const Parameters& b, std::size_t layer) {
  return (weight(a, layer) - weight(b, layer)).norm();
}

}  // namespace

TEST_CASE("steps are logged at 0, every log.every, and at the last step", "[train]") {
  const auto run = test::run_in_memory(small_run());
  std::vector<long> logged;
  for (const StepRecord& s : run.records.steps) logged.push_back(s.step);
  REQUIRE(logged == std::vector<long>{0, 10, 20, 25});
  REQUIRE(run.result.summary.status == RunStatus::completed);
  REQUIRE(run.result.summary.steps_done == 25);
  REQUIRE(run.records.layers.front().size() == 4);  // 3 hidden + output
  REQUIRE(std::isnan(run.records.layers.front()[0].update_ratio));
  REQUIRE(run.records.layers.back()[0].update_ratio > 0);
  REQUIRE(std::isnan(run.records.layers.front().back().dead_fraction));  // output layer
}

TEST_CASE("a huge learning rate makes a run diverge: a result, not an exception", "[train]") {
  Config c = small_run();
  c.train.lr = 1e8;
  c.model.activation = Activation::relu;
  const auto run = test::run_in_memory(c);
  const RunSummary& s = run.result.summary;
  INFO("diverged at step " << s.diverged_step << " (" << s.diverged_reason << ")");
  REQUIRE(s.status == RunStatus::diverged);
  REQUIRE(s.diverged_step >= 1);
  REQUIRE(s.diverged_step <= 25);
  REQUIRE(run.records.steps.back().step == s.diverged_step);
  REQUIRE_FALSE(std::isfinite(run.records.steps.back().loss *
                              run.records.steps.back().grad_norm));
}

TEST_CASE("full batch SGD is plain gradient descent", "[train]") {
  Config c = small_run();
  c.train.batch_size = c.data.train_size;
  c.train.steps = 1;
  c.log.save_params = true;
  const PreparedRun prepared = prepare_run(c);
  test::Collected records;
  train(prepared.config, prepared.data, prepared.start, records);
  REQUIRE(records.saved.size() == 2);

  // The gradient of the mean loss over the whole training set, computed independently.
  Network<double> mlp = make_network<double>(prepared.layout);
  set_parameters(mlp, prepared.start);
  Workspace<double> ws = make_workspace<double>(prepared.layout, c.data.train_size, Pass::train);
  ws.input = prepared.data.train.x;
  network_forward(mlp, ws);
  softmax_cross_entropy<double>(logits(mlp.layout, ws), prepared.data.train.labels,
                                &dlogits(mlp.layout, ws));
  network_backward(mlp, ws);
  const VecD expected = mlp.params - c.train.lr * mlp.grads;
  Network<double> after = make_network<double>(prepared.layout);
  set_parameters(after, records.saved[1]);
  const double err = (after.params - expected).norm() / expected.norm();
  INFO("relative difference from theta - lr * grad: " << err);
  REQUIRE(err < 1e-12);
}

TEST_CASE("optimizers follow their update formulas", "[train]") {
  const NetworkLayout layout = make_mlp_layout(2, {3}, 2, {Activation::relu, 0});
  TrainConfig tc;
  tc.lr = 0.1;
  const auto kind = GENERATE(Optimizer::sgd, Optimizer::momentum, Optimizer::adam);
  const bool nesterov = GENERATE(false, true);
  tc.optimizer = kind;
  tc.nesterov = nesterov;
  Network<double> mlp = make_network<double>(layout);
  for (Eigen::Index i = 0; i < mlp.params.size(); ++i) mlp.params[i] = 0.1 * double(i);
  OptimizerState<double> state = make_optimizer_state<double>(tc, layout);
  // Reference for one coordinate, written from the papers' formulas.
  double p = mlp.params[5], m = 0, v = 0;
  for (int t = 1; t <= 3; ++t) {
    const double g = 0.5 * t - 0.3;
    mlp.grads.setConstant(g);
    UpdateNorms norms;
    const VecD before = mlp.params;
    optimizer_step(tc, tc.lr, 1.0, mlp, state, &norms);
    if (kind == Optimizer::sgd) {
      p -= tc.lr * g;
    } else if (kind == Optimizer::momentum) {
      m = tc.momentum * m + g;
      p -= tc.lr * (nesterov ? g + tc.momentum * m : m);
    } else {
      m = tc.beta1 * m + (1 - tc.beta1) * g;
      v = tc.beta2 * v + (1 - tc.beta2) * g * g;
      const double mhat = m / (1 - std::pow(tc.beta1, t)), vhat = v / (1 - std::pow(tc.beta2, t));
      p -= tc.lr * mhat / (std::sqrt(vhat) + tc.eps);
    }
    INFO("optimizer " << optimizer_name(kind) << " nesterov " << nesterov << " step " << t);
    REQUIRE_THAT(mlp.params[5], WithinRel(p, 1e-12));
    // The norms measured in the update's own pass: of layer 1's weight update and weights.
    const ParamTensor& l1 = layout.tensors[0];
    const auto w1 = [&](const VecD& x) {
      return x.segment(Eigen::Index(l1.offset), Eigen::Index(l1.size()));
    };
    REQUIRE(norms.update.size() == 2);
    REQUIRE(norms.weight_after.size() == 2);
    CHECK_THAT(norms.update[0], WithinRel((w1(mlp.params) - w1(before)).norm(), 1e-12));
    CHECK_THAT(norms.weight_after[0], WithinRel(w1(mlp.params).norm(), 1e-14));
  }
}

TEST_CASE("clipping caps the update at lr * clip_norm", "[train]") {
  Config c = small_run();
  c.train.clip_norm = 1e-3;
  c.train.steps = 1;
  c.log.every = 1;
  c.log.save_params = true;
  const auto run = test::run_in_memory(c);
  REQUIRE(run.records.steps[0].clipped);
  const Parameters& a = run.records.saved[0];
  const Parameters& b = run.records.saved[1];
  double sq = 0;
  for (std::size_t l = 0; l < dense_layers(a); ++l)
    sq += std::pow(distance(a, b, l), 2) + (bias(a, l) - bias(b, l)).squaredNorm();
  REQUIRE_THAT(std::sqrt(sq), WithinRel(c.train.lr * c.train.clip_norm, 1e-9));
  // update_ratio of the logged step 1 is exactly ||W1 - W0|| / ||W0||.
  const LayerRecord& r = run.records.layers[1][0];
  REQUIRE_THAT(r.update_ratio, WithinRel(distance(a, b, 0) / weight(a, 0).norm(), 1e-9));
}

TEST_CASE("learning-rate schedules", "[train]") {
  TrainConfig tc;
  tc.lr = 1.0;
  tc.steps = 100;
  tc.schedule = Schedule::step;
  tc.decay_every = 30;
  tc.decay_factor = 0.5;
  REQUIRE(learning_rate(tc, 29) == 1.0);
  REQUIRE(learning_rate(tc, 30) == 0.5);
  REQUIRE(learning_rate(tc, 95) == 0.125);
  tc.schedule = Schedule::cosine;
  tc.lr_final = 0.1;
  REQUIRE_THAT(learning_rate(tc, 0), WithinAbs(1.0, 1e-15));
  REQUIRE_THAT(learning_rate(tc, 50), WithinAbs(0.55, 1e-12));
  REQUIRE_THAT(learning_rate(tc, 100), WithinAbs(0.1, 1e-12));
}

TEST_CASE("the same config gives bit-identical records, float32 tracks float64", "[train]") {
  const auto a = test::run_in_memory(small_run());
  const auto b = test::run_in_memory(small_run());
  REQUIRE(a.records.steps.size() == b.records.steps.size());
  for (std::size_t i = 0; i < a.records.steps.size(); ++i) {
    REQUIRE(a.records.steps[i].loss == b.records.steps[i].loss);
    REQUIRE(a.records.layers[i][0].grad_w_norm == b.records.layers[i][0].grad_w_norm);
  }
  Config f = small_run();
  f.precision = Precision::float32;
  const auto c = test::run_in_memory(f);
  const double l64 = a.records.steps.front().loss, l32 = c.records.steps.front().loss;
  INFO("step-0 loss float64 " << l64 << ", float32 " << l32);
  REQUIRE_THAT(l32, WithinRel(l64, 1e-5));
}

TEST_CASE("saved parameters start an identical run through model.init_from", "[train]") {
  test::TempDir dir("init-from");
  Config c = small_run();
  c.log.save_params = true;
  const PreparedRun prepared = prepare_run(c);
  save_parameters(dir.file("params"), prepared.layout, prepared.start);
  Config again = small_run();
  again.model.init_from = dir.file("params");
  again.model.init = WeightInit::orthogonal;  // ignored: the folder wins
  const PreparedRun loaded = prepare_run(again);
  REQUIRE(loaded.start.tensors.size() == prepared.start.tensors.size());
  for (std::size_t t = 0; t < prepared.start.tensors.size(); ++t)
    REQUIRE(loaded.start.tensors[t] == prepared.start.tensors[t]);
  Config wrong = small_run();
  wrong.model.width = {17};
  wrong.model.init_from = dir.file("params");
  REQUIRE_THROWS_WITH(prepare_run(wrong), Catch::Matchers::Contains("expected shape (17, 8)"));
}

TEST_CASE("log.probe_every skips the probe pass between its steps and changes nothing else",
          "[train]") {
  Config every = small_run();
  every.log.every = 1;
  Config sparse = every;
  sparse.log.probe_every = 10;
  const auto full = test::run_in_memory(every);
  const auto cheap = test::run_in_memory(sparse);
  REQUIRE(cheap.records.steps.size() == 26);
  REQUIRE(full.records.steps.size() == 26);
  for (std::size_t i = 0; i < cheap.records.steps.size(); ++i) {
    const long k = cheap.records.steps[i].step;
    const bool probed = k % 10 == 0 || k == 25;
    INFO("step " << k);
    CHECK(std::isnan(cheap.records.steps[i].probe_loss) == !probed);
    CHECK(cheap.records.steps[i].loss == full.records.steps[i].loss);
    CHECK(cheap.records.steps[i].grad_norm == full.records.steps[i].grad_norm);
    for (std::size_t l = 0; l < cheap.records.layers[i].size(); ++l) {
      const LayerRecord& a = cheap.records.layers[i][l];
      const LayerRecord& b = full.records.layers[i][l];
      CHECK(a.grad_w_norm == b.grad_w_norm);
      CHECK(a.delta_norm == b.delta_norm);
      CHECK(a.weight_norm == b.weight_norm);
      CHECK((a.update_ratio == b.update_ratio || (k == 0 && std::isnan(a.update_ratio))));
      CHECK(std::isnan(a.preact_mean) == !probed);
      if (probed) CHECK(a.preact_mean == b.preact_mean);
    }
  }
  // Lifecycle only sees the probed steps; the final summary is the same (last step probed).
  CHECK(cheap.result.summary.final_probe_loss == full.result.summary.final_probe_loss);
}

TEST_CASE("how often a run logs never changes its trajectory", "[train]") {
  // Measuring an update must not change how it is computed (e.g. by letting the compiler
  // contract p - lr * g into an FMA on one path only): log.every is an observation setting.
  for (const Optimizer opt : {Optimizer::sgd, Optimizer::momentum, Optimizer::adam})
    for (const Precision precision : {Precision::float32, Precision::float64})
      for (const double clip : {0.0, 0.05}) {
        Config dense = small_run();
        dense.precision = precision;
        dense.train.optimizer = opt;
        dense.train.nesterov = opt == Optimizer::momentum;
        dense.train.lr = opt == Optimizer::adam ? 0.01 : 0.1;
        dense.train.clip_norm = clip;
        dense.log.every = 1;
        dense.log.save_params = true;
        Config sparse = dense;
        sparse.log.every = 7;
        const auto a = test::run_in_memory(dense);
        const auto b = test::run_in_memory(sparse);
        INFO("optimizer " << int(opt) << ", float" << (precision == Precision::float32 ? 32 : 64)
                          << ", clip " << clip);
        REQUIRE(a.records.saved.size() == 2);
        REQUIRE(b.records.saved.size() == 2);
        for (std::size_t t = 0; t < a.records.saved[1].tensors.size(); ++t) {
          CHECK(a.records.saved[1].tensors[t] == b.records.saved[1].tensors[t]);
        }
        for (std::size_t i = 0; i < b.records.steps.size(); ++i) {
          const std::size_t k = std::size_t(b.records.steps[i].step);
          CHECK(a.records.steps[k].loss == b.records.steps[i].loss);
          CHECK(a.records.steps[k].grad_norm == b.records.steps[i].grad_norm);
          for (std::size_t l = 0; l < b.records.layers[i].size(); ++l) {
            CHECK(a.records.layers[k][l].weight_norm == b.records.layers[i][l].weight_norm);
            CHECK(a.records.layers[k][l].delta_norm == b.records.layers[i][l].delta_norm);
            CHECK(a.records.layers[k][l].grad_w_norm == b.records.layers[i][l].grad_w_norm);
            if (k > 0)
              CHECK(a.records.layers[k][l].update_ratio == b.records.layers[i][l].update_ratio);
          }
        }
      }
}

TEST_CASE("the optimizer's in-pass norms equal norms taken afterwards, bit for bit", "[train]") {
  // Layer 1 has 100 x 100 weights: three chunks of the norm's summation. The weight norm the
  // optimizer measures is the next logged step's weight_norm, so it must be the same number
  // norm_wide() would give; the update norm agrees with the change it made.
  const NetworkLayout layout = make_mlp_layout(100, {100}, 3, {Activation::relu, 0});
  TrainConfig tc;
  tc.lr = 0.05;
  for (const Optimizer kind : {Optimizer::sgd, Optimizer::momentum, Optimizer::adam}) {
    tc.optimizer = kind;
    Network<float> mlp = make_network<float>(layout);
    for (Eigen::Index i = 0; i < mlp.params.size(); ++i) {
      mlp.params[i] = std::sin(0.37f * float(i));
      mlp.grads[i] = std::cos(0.11f * float(i));
    }
    OptimizerState<float> state = make_optimizer_state<float>(tc, layout);
    const Vec<float> before = mlp.params;
    UpdateNorms norms;
    optimizer_step(tc, tc.lr, 0.7, mlp, state, &norms);
    INFO("optimizer " << optimizer_name(kind));
    for (long l = 0; l < layout.num_rows(); ++l) {
      const ParamTensor& s = layout.tensors[std::size_t(layout.rows[std::size_t(l)].main_tensor)];
      CHECK(norms.weight_after[std::size_t(l)] == norm_wide(mlp.tensor(std::size_t(layout.rows[std::size_t(l)].main_tensor))));
      const Vec<float> change =
          before.segment(Eigen::Index(s.offset), Eigen::Index(s.size())) -
          mlp.params.segment(Eigen::Index(s.offset), Eigen::Index(s.size()));
      CHECK_THAT(norms.update[std::size_t(l)], WithinRel(norm_wide(change), 1e-5));
    }
  }
}

TEST_CASE("update_ratio is rescaled like the other norms: no underflow at depth 400", "[train]") {
  // A depth-400 sigmoid net (Xavier, SGD): the first layers' gradients are ~1e-200, their
  // updates' squares underflow double. With plain SGD the update is lr * grad, so the ratio at
  // step 1 is lr * grad_w_norm / weight_norm of step 0, whatever the magnitude.
  Config c = small_run();
  c.model.activation = Activation::sigmoid;
  c.model.init = WeightInit::xavier_normal;
  c.model.depth = 400;
  c.train.optimizer = Optimizer::sgd;
  c.train.lr = 0.01;
  c.train.steps = 1;
  c.log.every = 1;
  const auto run = test::run_in_memory(c);
  REQUIRE(run.records.layers.size() == 2);
  const std::vector<LayerRecord>& init = run.records.layers[0];
  const std::vector<LayerRecord>& after = run.records.layers[1];
  INFO("layer 1 grad_w_norm " << init[0].grad_w_norm);
  REQUIRE(init[0].grad_w_norm < 1e-160);  // the regime where the squares underflow
  REQUIRE(init[0].grad_w_norm > 0);
  for (std::size_t l = 0; l < after.size(); ++l) {
    const double expected = c.train.lr * init[l].grad_w_norm / init[l].weight_norm;
    INFO("layer " << l + 1 << ": update_ratio " << after[l].update_ratio << ", expected "
                  << expected);
    REQUIRE_THAT(after[l].update_ratio, WithinRel(expected, 1e-6));
  }
}

TEST_CASE("a diverging run keeps its last log.divergence_window steps; it exploded first",
          "[train]") {
  // Experiment c's blow-up: relu He x gain 1.5, plain SGD at lr 0.1, logging every 50 steps;
  // the loss grows by orders of magnitude for a few steps and becomes NaN.
  Config c = small_run();
  c.model.activation = Activation::relu;
  c.model.depth = 10;
  c.model.width = {64};
  c.model.init_gain = 1.5;
  c.train.optimizer = Optimizer::sgd;
  c.train.lr = 0.1;
  c.train.steps = 200;
  c.log.every = 50;
  for (const long window : {20L, 2L, 0L}) {
    c.log.divergence_window = window;
    const auto run = test::run_in_memory(c);
    const RunSummary& s = run.result.summary;
    INFO("window " << window << ": diverged at step " << s.diverged_step << ", verdicts "
                   << s.verdicts);
    REQUIRE(s.status == RunStatus::diverged);
    REQUIRE(s.diverged_step >= 3);
    REQUIRE(s.diverged_step < 50);
    std::vector<long> logged;
    for (const StepRecord& r : run.records.steps) logged.push_back(r.step);
    std::vector<long> expected = {0};
    for (long k = std::max(1L, s.diverged_step - window); k < s.diverged_step; ++k)
      expected.push_back(k);
    expected.push_back(s.diverged_step);
    REQUIRE(logged == expected);
    double largest = 0;
    for (std::size_t i = 0; i + 1 < run.records.steps.size(); ++i) {
      const StepRecord& r = run.records.steps[i];
      REQUIRE(std::isfinite(r.loss));
      REQUIRE(std::isfinite(r.grad_norm));
      largest = std::max(largest, r.grad_norm);
      for (const LayerRecord& l : run.records.layers[i]) {
        REQUIRE(l.step == r.step);
        REQUIRE(std::isfinite(l.grad_w_norm));
        REQUIRE(l.grad_w_norm > 0);
      }
    }
    // The largest gradient norm is taken over every step, logged or not: with the window, it
    // is the largest of the rows; the run exploded before it diverged.
    if (window == 20) {
      REQUIRE(s.max_grad_norm == largest);
      REQUIRE(run.records.steps[s.diverged_step - 1].loss > 1e3 * run.records.steps[0].loss);
    }
    REQUIRE(s.max_grad_norm > 1e3 * s.grad_norm_init);
    REQUIRE(s.verdicts == "diverged+exploding");
  }
}

TEST_CASE("dead units from the training forward pass: on the batch and over log.dead_window",
          "[train]") {
  Config c = small_run();
  c.model.activation = Activation::relu;
  c.log.every = 1;
  c.log.dead_window = 5;
  SECTION("a bias of -50 kills every relu unit on every batch") {
    c.model.bias_init.value = -50.0;
    const auto run = test::run_in_memory(c);
    for (std::size_t s = 0; s < run.records.layers.size(); ++s)
      for (const LayerRecord& r : run.records.layers[s]) {
        if (r.output) {
          CHECK(std::isnan(r.batch_dead_fraction));
          continue;
        }
        INFO("step " << s << " layer " << r.layer);
        CHECK(r.batch_dead_fraction == 1.0);
        CHECK(r.window_dead_units == double(r.fan_out));
      }
  }
  SECTION("a healthy He net: units fire on the batch, none dead over the window") {
    const auto run = test::run_in_memory(c);
    const LayerRecord& r = run.records.layers.back()[0];
    INFO("batch_dead_fraction " << r.batch_dead_fraction);
    CHECK(r.batch_dead_fraction < 0.5);
    CHECK(r.window_dead_units <= r.batch_dead_fraction * double(r.fan_out));
  }
}
