// Conv training-step benchmark (issue 15): steps/s of a small CNN's training step (forward,
// softmax cross-entropy, backward, SGD update) through the same functions train() calls, with
// the per-step metrics off and on (per-layer gradient norms and dead units on the batch, as
// train() measures them), and, interleaved in the same process, the time the step's GEMMs
// take alone on preallocated matrices of the same shapes (the step's ceiling).
// It drives the network directly (make_network_layout(Shape{1, 28, 28}, ...), make_workspace,
// network_forward/backward, optimizer_step), not train(), so that the same inputs as
// torch_peer.py's (N(0, 1) images, no data loading or probe pass) are timed.
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_stats.hpp"
#include "config/config.hpp"
#include "nn/layers/layers.hpp"
#include "nn/loss.hpp"
#include "nn/network.hpp"
#include "nn/network_init.hpp"
#include "nn/optimizer.hpp"
#include "nn/rng.hpp"
#include "train/dead_units.hpp"
#include "train/probes.hpp"
#include "version.hpp"

namespace {

using namespace gradflow;
using namespace gradflow::bench;

constexpr long kBatch = 64, kClasses = 10, kExamples = 512;
const Shape kInput{1, 28, 28};

// conv3x3(1->16, same) relu conv3x3(16->16) relu maxpool2 conv relu conv relu maxpool2
// flatten (16 7 7 = 784) -> dense(10): torch_peer.py --cnn builds the same.
std::vector<LayerSpec> cnn_specs() {
  const LayerSpec conv = conv2d_layer(16), relu = activation_layer({Activation::relu, 0.0}),
                  pool = pool_layer(LayerKind::max_pool);
  return {conv, relu, conv, relu, pool, conv, relu, conv, relu, pool, layer_of(LayerKind::flatten)};
}

// Everything one step touches, allocated once (as in train()).
struct Step {
  NetworkLayout layout;
  Network<float> net;
  Workspace<float> ws;
  TrainConfig tc;
  OptimizerState<float> opt;
  Mat<float> x;             // (784, kExamples) inputs, N(0, 1)
  std::vector<int> y;       // labels
  std::vector<int> labels;  // the batch's
  StepSquares squares;
  std::vector<LayerRecord> records;
  UpdateNorms norms;
  DeadUnitTracker<float> dead;
  long k = 0;

  Step()
      : layout(make_network_layout(kInput, cnn_specs(), kClasses)),
        net(make_network<float>(layout)),
        ws(make_workspace<float>(layout, kBatch, Pass::train)),
        opt(make_optimizer_state<float>(tc, layout)),
        x(kInput.size(), kExamples),
        y(kExamples),
        labels(kBatch),
        squares(make_step_squares(layout)),
        records(std::size_t(layout.num_rows())),
        norms{std::vector<double>(records.size()), std::vector<double>(records.size())},
        dead(make_dead_unit_tracker<float>(layout, 100)) {
    tc.lr = 0.01;
    Rng rng = make_rng(1, "conv_bench");
    set_parameters(net, initial_parameters(layout, WeightInitSpec{}, BiasInitSpec{}, rng));
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.normal());
    for (int& l : y) l = int(rng.uniform01() * kClasses) % kClasses;
  }

  // One training step; metrics: what train() measures on a logged step (log.every = 1)
  // without the probe pass.
  void run(bool metrics) {
    const long first = (k * kBatch) % kExamples;
    ws.input = x.middleCols(first, kBatch);
    for (long j = 0; j < kBatch; ++j) labels[std::size_t(j)] = y[std::size_t(first + j)];
    dead.step = k;
    network_forward(net, ws, metrics ? &dead : nullptr);
    softmax_cross_entropy<float>(logits(layout, ws), labels, &dlogits(layout, ws));
    network_backward(net, ws, metrics ? squares.delta.data() : nullptr);
    gradient_squares(net, squares);  // train() does this every step (the global norm)
    if (metrics) {
      record_dead_units(dead, records);
      measure_gradients(net, ws, squares, nullptr, records);
    }
    optimizer_step(tc, tc.lr, 1.0, net, opt, metrics ? &norms : nullptr);
    ++k;
  }

  double seconds_per_step(bool metrics, long steps) {
    run(metrics);  // warm
    const double t0 = cpu_seconds();
    for (long s = 0; s < steps; ++s) run(metrics);
    return (cpu_seconds() - t0) / double(steps);
  }
};

// The step's products on preallocated matrices of the same shapes, as conv2d runs them: per
// conv layer and example, out_n = patches_n W^T, dW += dout_n^T patches_n, and (not for the
// first layer, whose input needs no gradient) din_n = dpatches_n flipped, the stride-1
// input-gradient convolution; for the dense layer z = W a, dW = dz a^T, da = W^T dz.
struct GemmStep {
  struct Conv {
    Mat<float> patches, w, out, dw, dpatches, flipped, din;
    bool input_gradient;
  };
  std::vector<Conv> convs;
  Mat<float> w, a, z, dw, da;
  double flops = 0;

  explicit GemmStep(const NetworkLayout& layout) {
    for (const Layer& l : layout.layers) {
      if (l.kind == LayerKind::conv2d) {
        const long positions = l.out_shape.positions(), k = l.in_shape.c * l.kernel * l.kernel;
        const long c = l.out_shape.c, in_positions = l.in_shape.positions();
        const long k_out = c * l.kernel * l.kernel;
        const bool din = l.id > 0;
        convs.push_back({Mat<float>::Constant(positions, k, 0.5f),
                         Mat<float>::Constant(c, k, 0.01f), Mat<float>::Zero(positions, c),
                         Mat<float>::Zero(c, k), Mat<float>::Constant(in_positions, k_out, 0.5f),
                         Mat<float>::Constant(k_out, l.in_shape.c, 0.01f),
                         Mat<float>::Zero(in_positions, l.in_shape.c), din});
        flops += 2.0 * double(positions * kBatch * k * c) * 2 +
                 (din ? 2.0 * double(in_positions * kBatch * k_out * l.in_shape.c) : 0.0);
      } else if (l.kind == LayerKind::dense) {
        w = Mat<float>::Constant(l.out_units, l.in_units, 0.01f);
        a = Mat<float>::Constant(l.in_units, kBatch, 0.5f);
        z = Mat<float>::Zero(l.out_units, kBatch);
        dw = Mat<float>::Zero(l.out_units, l.in_units);
        da = Mat<float>::Zero(l.in_units, kBatch);
        flops += 6.0 * double(l.out_units * l.in_units * kBatch);
      }
    }
  }
  void run() {
    for (Conv& c : convs)
      for (long n = 0; n < kBatch; ++n) {
        c.out.setConstant(0.1f);  // the bias
        c.out.noalias() += c.patches * c.w.transpose();
        c.dw.noalias() += c.out.transpose() * c.patches;
        if (c.input_gradient) c.din.noalias() = c.dpatches * c.flipped;
      }
    z.noalias() = w * a;
    dw.noalias() = z * a.transpose();
    da.noalias() = w.transpose() * z;
  }
  double seconds(long reps) {
    run();
    const double t0 = cpu_seconds();
    for (long r = 0; r < reps; ++r) run();
    return (cpu_seconds() - t0) / double(reps);
  }
};

}  // namespace

int main(int argc, char** argv) {
  int repeats = 3;
  double min_time = 1.0;
  bool json = false;
  CLI::App app{"gradflow conv training-step benchmark (one thread, float32, batch 64)"};
  app.add_option("-r,--repeats", repeats, "Interleaved repeats")->check(CLI::Range(1, 100));
  app.add_option("--min-time", min_time, "Seconds per timed block")->check(CLI::Range(0.01, 60.0));
  app.add_flag("--json", json, "Print JSON instead of the table");
  CLI11_PARSE(app, argc, argv);

  Step step;
  GemmStep gemm(step.layout);
  auto reps = [&](double seconds) { return std::max(5L, long(min_time / std::max(seconds, 1e-6))); };
  const long n_gemm = reps(gemm.seconds(2));
  const long n_off = reps(step.seconds_per_step(false, 2));
  const long n_on = reps(step.seconds_per_step(true, 2));
  std::vector<double> off, on, gemm_s, fraction, gflops;
  for (int r = 0; r < repeats; ++r) {  // interleaved, so load changes hit all alike
    const double g = gemm.seconds(n_gemm);
    const double t_off = step.seconds_per_step(false, n_off);
    const double t_on = step.seconds_per_step(true, n_on);
    gemm_s.push_back(g * 1e3);
    off.push_back(1.0 / t_off);
    on.push_back(1.0 / t_on);
    fraction.push_back(g / t_on);
    gflops.push_back(gemm.flops / g * 1e-9);
  }
  Json doc = {{"gradflow", std::string(kVersion) + " " + kGitRevision},
              {"workload", "cnn: conv3x3(1->16) relu conv3x3(16->16) relu maxpool2 conv relu "
                           "conv relu maxpool2 flatten dense(10); 1x28x28, batch 64, SGD, f32"},
              {"figure", "conv_bench: forward + cross-entropy + backward + SGD via network_forward/"
                         "network_backward/optimizer_step on N(0, 1) images (not train(): no data "
                         "loading or probe pass)"},
              {"metrics_on", "dead units on the batch (DeadUnitTracker) + per-row gradient, delta, "
                             "weight norms (measure_gradients) + update norms, every step"},
              {"gflop_per_step_gemm", gemm.flops * 1e-9},
              {"steps_per_s_metrics_off", stats(off)},
              {"steps_per_s_metrics_on", stats(on)},
              {"gemm_alone_ms", stats(gemm_s)},
              {"gemm_gflops", stats(gflops)},
              {"fraction_of_gemm_metrics_on", stats(fraction)}};
  if (json) {
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  auto show = [&](const char* name, const Json& s, const char* fmt) {
    std::printf("%-34s ", name);
    std::printf(fmt, s["median"].get<double>());
    std::printf("  (");
    std::printf(fmt, s["min"].get<double>());
    std::printf(" - ");
    std::printf(fmt, s["max"].get<double>());
    std::printf(")\n");
  };
  std::printf("%s\n%s\nmedian (min - max) of %d interleaved repeats, CPU time\n",
              doc["workload"].get<std::string>().c_str(), doc["figure"].get<std::string>().c_str(),
              repeats);
  std::printf("GEMM work per step: %.3f GFLOP\n", gemm.flops * 1e-9);
  show("steps/s, metrics off", doc["steps_per_s_metrics_off"], "%.1f");
  show("steps/s, metrics on", doc["steps_per_s_metrics_on"], "%.1f");
  show("the step's GEMMs alone, ms", doc["gemm_alone_ms"], "%.2f");
  show("GEMM GFLOP/s", doc["gemm_gflops"], "%.1f");
  show("step at % of its GEMMs (metrics on)", Json{{"median", 100 * median(fraction)},
                                                 {"min", 100 * *std::min_element(fraction.begin(), fraction.end())},
                                                 {"max", 100 * *std::max_element(fraction.begin(), fraction.end())}},
       "%.0f");
  return 0;
}
