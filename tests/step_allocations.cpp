// Checks that a training step does no heap allocation after the first one (issue 5): malloc and
// friends are replaced by counting versions (glibc's __libc_* underneath, so operator new and
// Eigen's aligned allocations are both seen), counting only between on_progress(1) and the
// last on_progress. A separate executable (ctest step_allocations): replacing malloc would
// clash with the sanitizers and would affect every test in the Catch2 binary.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "nn/loss.hpp"
#include "nn/network_init.hpp"
#include "nn/optimizer.hpp"
#include "nn/rng.hpp"
#include "run/run.hpp"
#include "train/dead_units.hpp"
#include "train/lifecycle.hpp"
#include "train/probes.hpp"
#include "train/train.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}

namespace {
thread_local bool counting = false;
thread_local long allocations = 0;
void count() {
  if (counting) ++allocations;
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  count();
  *out = __libc_memalign(alignment, n);
  return *out ? 0 : 12;  // ENOMEM
}
}

namespace {

using namespace gradflow;

// Counts allocations from on_progress(1) (inside step 1, before its update) to the last
// on_progress: updates 1.., and steps 2.. with their logging, in full.
struct Counter : TrainObserver {
  long steps = 0;
  void on_log(const StepRecord&, const std::vector<LayerRecord>&) override {}
  bool on_progress(long step, long, double) override {
    if (step == 1) counting = true;
    if (step == steps - 1) counting = false;
    return true;
  }
  void on_parameters(std::string_view, const NetworkLayout&, const Parameters&) override {}
};

long allocations_in_steps(const std::string& json) {
  const PreparedRun run = prepare_run(parse_config(Json::parse(json), "<test>"));
  Counter counter;
  counter.steps = run.config.train.steps;
  allocations = 0;
  const TrainResult r = train(run.config, run.data, run.start, counter);
  counting = false;
  if (r.summary.status != RunStatus::completed) return -1;
  return allocations;
}

// A conv net through the network API: conv2d -> relu -> max_pool -> conv2d (stride 2) -> relu
// -> flatten -> dense on 2 x 28 x 28 images, batch 32 (so conv2d works in more than one chunk
// of examples), the training loop's calls of a logged step with a probe pass (dead tracker,
// backward with deltas, gradient squares, measure_gradients, measure_probe, lifecycle, the
// update), every step. Counts steps 1..steps-1 (step 0 sizes whatever is sized lazily).
template <class T>
long conv_allocations_in_steps(Optimizer optimizer, long steps) {
  const LayerSpec relu = activation_layer({Activation::relu, 0.0});
  const NetworkLayout layout = make_network_layout(
      Shape{2, 28, 28},
      {conv2d_layer(8), relu, pool_layer(LayerKind::max_pool), conv2d_layer(8, 3, Padding::same, 2),
       relu, layer_of(LayerKind::flatten)},
      5);
  Rng rng = make_rng(7, "init");
  Network<T> net = make_network<T>(layout);
  set_parameters(net, initial_parameters(layout, WeightInitSpec{}, BiasInitSpec{}, rng));
  const long batch = 32, probe_size = 24;
  Examples probe_data;
  probe_data.x = MatD(layout.inputs, probe_size);
  for (long i = 0; i < probe_data.x.size(); ++i) probe_data.x.data()[i] = double((i * 37) % 11) / 5.0 - 1.0;
  for (long j = 0; j < probe_size; ++j) probe_data.labels.push_back(int(j % 5));
  ProbeSet<T> probe = make_probe_set<T>(layout, probe_data, 5);
  Workspace<T> ws = make_workspace<T>(layout, batch, Pass::train);
  // The first conv runs without im2col and keeps its padded planes for backward: that path
  // too must allocate nothing (-1 reports the net did not take it).
  if (!ws.padded(layout.layers[0])) return -1;
  for (long i = 0; i < ws.input.size(); ++i) ws.input.data()[i] = T(double((i * 13) % 7) / 3.0 - 1.0);
  std::vector<int> labels(static_cast<std::size_t>(batch));
  for (long j = 0; j < batch; ++j) labels[std::size_t(j)] = int(j % 5);
  TrainConfig tc;
  tc.optimizer = optimizer;
  tc.batch_size = batch;
  tc.steps = steps;
  OptimizerState<T> opt = make_optimizer_state<T>(tc, layout);
  std::vector<LayerRecord> records(std::size_t(layout.num_rows()));
  describe_rows(layout, records);
  const std::vector<long> widths = activation_widths(layout);
  UnitStates units = make_unit_states(widths);
  LifecycleTracker life = make_lifecycle_tracker(widths);
  StepSquares squares = make_step_squares(layout);
  UpdateNorms norms{std::vector<double>(std::size_t(layout.num_rows())),
                    std::vector<double>(std::size_t(layout.num_rows()))};
  DeadUnitTracker<T> dead = make_dead_unit_tracker<T>(layout, 3);
  allocations = 0;
  for (long k = 0; k < steps; ++k) {
    counting = k >= 1;
    dead.step = k;
    network_forward(net, ws, &dead);
    softmax_cross_entropy<T>(logits(layout, ws), labels, &dlogits(layout, ws));
    network_backward(net, ws, squares.delta.data());
    gradient_squares(net, squares);
    record_dead_units(dead, records);
    measure_gradients(net, ws, squares, k ? &norms.weight_after : nullptr, records);
    measure_probe(net, Task::classification, true, probe, records, &units);
    observe_units(life, units, k);
    optimizer_step(tc, 0.01, 1.0, net, opt, &norms);
    counting = false;
  }
  return allocations;
}

}  // namespace

int main() {
  int failures = 0;
  // The counter itself must see an allocation, or a zero below proves nothing.
  counting = true;
  allocations = 0;
  std::vector<double>* probe = new std::vector<double>(1000, 1.0);
  delete probe;
  void* raw = std::malloc(64);
  std::free(raw);
  counting = false;
  if (allocations < 2) {
    std::printf("FAIL: the counter saw %ld of 2 allocations\n", allocations);
    ++failures;
  }
  const std::string base = R"({"seed": 3, "data": {"kind": "gaussian_mixture", "dim": 24,
      "classes": 5, "train_size": 256, "probe_size": 96}, "train": {"steps": 12,
      "batch_size": 32, "lr": 0.01, "loss": "LOSS", "optimizer": "OPT"},
      "model": {"depth": 5, "width": [40, 48, 40, 32, 40], "activation": "ACT"},
      "precision": "PREC", "log": LOG})";
  const std::vector<std::vector<std::string>> cases = {
      // precision, activation, optimizer, loss, log
      {"float32", "relu", "sgd", "cross_entropy", R"({"every": 1, "probe_every": 1000})"},
      {"float64", "relu", "sgd", "cross_entropy", R"({"every": 1, "probe_every": 1000})"},
      {"float32", "tanh", "momentum", "mse", R"({"every": 1})"},
      {"float64", "gelu", "adam", "cross_entropy", R"({"every": 3})"},
      {"float64", "leaky_relu", "sgd", "mse", R"({"every": 1000})"},
  };
  // Every layer kind: batch norm, prelu, rezero residual blocks; layer norm with projections.
  const std::string stacks[] = {
      R"("depth": 5, "width": 40, "activation": "prelu", "norm": "batch", "residual": {"every": 2, "scale": "rezero"})",
      R"("depth": 5, "width": [40, 48, 40, 32, 40], "activation": "tanh", "norm": "layer", "residual": {"every": 2, "scale": 0.5})",
  };
  for (const std::string& model : stacks) {
    std::string json = base;
    const std::size_t m = json.find("\"depth\": 5");
    json.replace(m, json.find('}', m) - m, model);
    for (auto [key, value] : {std::pair{"PREC", "float32"}, {"ACT", ""}, {"OPT", "adam"},
                              {"LOSS", "cross_entropy"}, {"LOG", R"({"every": 1})"}})
      if (json.find(key) != std::string::npos) json.replace(json.find(key), std::string(key).size(), value);
    const long n = allocations_in_steps(json);
    std::printf("%s: %s: %ld allocations in steps 2..11\n", n == 0 ? "ok" : "FAIL", model.c_str(), n);
    failures += n != 0;
  }
  for (const Optimizer o : {Optimizer::sgd, Optimizer::adam}) {
    const long f = conv_allocations_in_steps<float>(o, 6), d = conv_allocations_in_steps<double>(o, 6);
    std::printf("%s: conv2d relu max_pool conv2d(stride 2) relu flatten dense, %s: %ld (float32), "
                "%ld (float64) allocations in steps 1..5\n",
                f == 0 && d == 0 ? "ok" : "FAIL", o == Optimizer::sgd ? "sgd" : "adam", f, d);
    failures += f != 0 || d != 0;
  }
  for (const std::vector<std::string>& c : cases) {
    std::string json = base;
    const char* keys[] = {"PREC", "ACT", "OPT", "LOSS", "LOG"};
    for (std::size_t i = 0; i < 5; ++i) json.replace(json.find(keys[i]), std::string(keys[i]).size(), c[i]);
    const long n = allocations_in_steps(json);
    const bool ok = n == 0;
    std::printf("%s: %s %s %s %s log %s: %ld allocations in steps 2..11\n", ok ? "ok" : "FAIL",
                c[0].c_str(), c[1].c_str(), c[2].c_str(), c[3].c_str(), c[4].c_str(), n);
    failures += !ok;
  }
  return failures == 0 ? 0 : 1;
}
