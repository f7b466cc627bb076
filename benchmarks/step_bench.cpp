// Training-step benchmark (issue 5): steps/s of gradflow's real training loop (train()) with
// per-layer metrics off and logged every step, its GFLOP/s, and, in the same process and
// interleaved with it, the GEMM throughput of the same products alone (the step's ceiling).
// Prints a table, or JSON with --json (benchmarks/torch_peer.py reads that).
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_stats.hpp"
#include "config/config.hpp"
#include "nn/gemm_backend.hpp"
#include "nn/network.hpp"
#include "run/run.hpp"
#include "train/train.hpp"
#include "version.hpp"

namespace {

using namespace gradflow;
using bench::median;
using bench::stats;
// CPU time of this process (bench_stats.hpp), as a chrono duration.
struct Clock {
  using time_point = std::chrono::duration<double>;
  static time_point now() { return time_point(bench::cpu_seconds()); }
};
using gradflow::Json;

constexpr long kBatch = 64;
constexpr long kClasses = 10;
constexpr const char* kMetricsOn =
    "log.every=1, log.probe_every=1e9: every step's loss, accuracy, global grad norm and, per "
    "layer, grad_w/grad_b/delta/weight/bias norms and update_ratio (all of layers.csv except "
    "the probe-set statistics)";

struct Workload {
  long depth = 0;
  long width = 0;
};
const std::vector<Workload> kWorkloads = {{10, 64}, {50, 64}, {20, 256}, {10, 1024}};

// Times the steps between on_progress(1) and on_progress(steps - 1): the loop as it runs,
// without setup (data cast, allocation) and without the step-0 probe pass.
struct StepTimer : TrainObserver {
  long last = 0;
  Clock::time_point t0, t1;
  void on_log(const StepRecord&, const std::vector<LayerRecord>&) override {}
  bool on_progress(long step, long, double) override {
    if (step == 1) t0 = Clock::now();
    if (step == last) t1 = Clock::now();
    return true;
  }
  void on_parameters(std::string_view, const NetworkLayout&, const Parameters&) override {}
};

// The benchmark's network and data, then `sets` ("model.norm=batch", as gradflow run --set).
Config workload_config(const Workload& w, const std::string& precision,
                       const std::vector<std::string>& sets) {
  Json doc = {
      {"name", "bench"},
      {"seed", 1},
      {"precision", precision},
      {"data",
       {{"kind", "gaussian_mixture"}, {"dim", w.width}, {"classes", kClasses},
        {"train_size", 2048}, {"probe_size", 64}}},
      {"model", {{"depth", w.depth}, {"width", w.width}, {"activation", "relu"},
                 {"init", "he_normal"}}},
      {"train", {{"loss", "cross_entropy"}, {"optimizer", "sgd"}, {"lr", 0.005},
                 {"steps", 3}, {"batch_size", kBatch}}},
  };
  for (const std::string& s : sets) apply_override(doc, s);
  return parse_config(Json::parse(doc.dump()), "<bench>");  // numbers typed as a file's
}

// Seconds per step of train() over `steps` timed steps. metrics: log every step; probe: run
// the probe pass at every logged step too.
double time_train(const PreparedRun& run, bool metrics, bool probe, long steps) {
  Config c = run.config;
  c.train.steps = steps + 2;
  c.log.every = metrics ? 1 : 1000000000;
  c.log.probe_every = probe ? 0 : 1000000000;
  StepTimer timer;
  timer.last = steps + 1;
  const TrainResult r = train(c, run.data, run.start, timer);
  if (r.summary.status != RunStatus::completed) throw std::runtime_error("benchmark run diverged");
  return (timer.t1 - timer.t0).count() / double(steps);
}

// The step's three products per layer (z = W a, dW = delta a^T, delta' = W^T delta) on
// preallocated matrices of the same shapes: the GEMM ceiling of a step.
template <class T>
struct GemmStep {
  std::vector<Mat<T>> w, a, z, dw, da;
  explicit GemmStep(const NetworkLayout& layout) {
    for (const RowInfo& s : layout.rows) {
      if (s.kind != RowKind::dense && s.kind != RowKind::output) continue;
      w.push_back(Mat<T>::Constant(s.fan_out, s.fan_in, T(0.01)));
      a.push_back(Mat<T>::Constant(s.fan_in, kBatch, T(0.5)));
      z.push_back(Mat<T>::Zero(s.fan_out, kBatch));
      dw.push_back(Mat<T>::Zero(s.fan_out, s.fan_in));
      da.push_back(Mat<T>::Zero(s.fan_in, kBatch));
    }
  }
  double seconds(long reps) {
    const Clock::time_point t0 = Clock::now();
    for (long r = 0; r < reps; ++r) {
      for (std::size_t l = 0; l < w.size(); ++l) {
        z[l].noalias() = w[l] * a[l];
        dw[l].noalias() = z[l] * a[l].transpose();
        da[l].noalias() = w[l].transpose() * z[l];
      }
    }
    return (Clock::now() - t0).count() / double(reps);
  }
};

double time_gemm(const NetworkLayout& layout, bool f32, long reps) {
  if (f32) return GemmStep<float>(layout).seconds(reps);
  return GemmStep<double>(layout).seconds(reps);
}

long reps_for(double seconds_per_step, double min_time) {
  return std::max(5L, long(min_time / std::max(seconds_per_step, 1e-7)));
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

struct Options {
  std::vector<std::string> workloads;   // "DxW"; empty: all
  std::vector<std::string> precisions = {"float32", "float64"};
  int repeats = 3;
  double min_time = 0.3;
  bool json = false;
  bool probe = false;
  std::vector<std::string> sets;  // --set key=value, applied to every workload's config
};

Json run_workload(const Workload& w, const std::string& precision, const Options& o) {
  const PreparedRun run = prepare_run(workload_config(w, precision, o.sets));
  const bool f32 = precision == "float32";
  double flops = 0;
  for (const ParamTensor& t : run.layout.tensors)  // the GEMMs' share: 3 products per matrix
    if (t.cols > 1) flops += 6.0 * kBatch * double(t.rows * t.cols);
  // Calibrate repetitions so each timed block lasts about min_time.
  const long n_gemm = reps_for(time_gemm(run.layout, f32, 2), o.min_time);
  const long n_off = reps_for(time_train(run, false, false, 3), o.min_time);
  const long n_on = reps_for(time_train(run, true, false, 3), o.min_time);
  std::vector<double> gemm, off, on, probe, cost, fraction;
  for (int r = 0; r < o.repeats; ++r) {  // interleaved, so load changes hit all alike
    const double g = time_gemm(run.layout, f32, n_gemm);
    const double t_off = time_train(run, false, false, n_off);
    const double t_on = time_train(run, true, false, n_on);
    gemm.push_back(flops / g * 1e-9);
    off.push_back(1.0 / t_off);
    on.push_back(1.0 / t_on);
    cost.push_back(t_on / t_off - 1.0);
    fraction.push_back(g / t_on);
    if (o.probe) probe.push_back(1.0 / time_train(run, true, true, n_on));
  }
  Json j = {{"name", "depth:" + std::to_string(w.depth) + "/width:" + std::to_string(w.width) +
                         "/precision:" + precision},
            {"depth", w.depth}, {"width", w.width}, {"precision", precision},
            {"batch", kBatch}, {"gflop_per_step", flops * 1e-9},
            {"steps_per_s_metrics_off", stats(off)}, {"steps_per_s_metrics_on", stats(on)},
            {"metrics_cost", stats(cost)}, {"gemm_gflops", stats(gemm)},
            {"fraction_of_gemm", stats(fraction)}};
  std::vector<double> gflops;
  for (double s : on) gflops.push_back(s * flops * 1e-9);
  j["gflops_metrics_on"] = stats(gflops);
  if (o.probe) j["steps_per_s_metrics_and_probe"] = stats(probe);
  return j;
}

std::string spread(const Json& s, const char* fmt, double scale = 1) {
  char buf[96];
  std::string f = std::string(fmt) + " (" + fmt + "-" + fmt + ")";
  std::snprintf(buf, sizeof buf, f.c_str(), scale * s["median"].get<double>(),
                scale * s["min"].get<double>(), scale * s["max"].get<double>());
  return buf;
}

void print_table(const Json& doc) {
  std::printf("gradflow step benchmark: batch %ld, cross-entropy, SGD, relu, one thread, %s GEMM\n",
              kBatch, doc["context"]["blas"].get<std::string>().c_str());
  std::printf("cpu: %s\nmetrics on = %s\n", doc["context"]["cpu"].get<std::string>().c_str(),
              kMetricsOn);
  std::printf("values: median (min-max) over %d interleaved repeats\n\n",
              doc["context"]["repeats"].get<int>());
  std::printf("%-10s %-8s %8s %-24s %-24s %-18s %-20s %-20s %-18s\n", "workload", "prec",
              "GFLOP/st", "steps/s metrics off", "steps/s metrics on", "metrics cost %",
              "GFLOP/s (on)", "GEMM GFLOP/s", "step/GEMM %");
  for (const Json& b : doc["benchmarks"]) {
    const std::string wl =
        std::to_string(b["depth"].get<long>()) + "x" + std::to_string(b["width"].get<long>());
    std::printf("%-10s %-8s %8.4f %-24s %-24s %-18s %-20s %-20s %-18s\n", wl.c_str(),
                b["precision"].get<std::string>().c_str(), b["gflop_per_step"].get<double>(),
                spread(b["steps_per_s_metrics_off"], "%.0f").c_str(),
                spread(b["steps_per_s_metrics_on"], "%.0f").c_str(),
                spread(b["metrics_cost"], "%.1f", 100).c_str(),
                spread(b["gflops_metrics_on"], "%.1f").c_str(),
                spread(b["gemm_gflops"], "%.1f").c_str(),
                spread(b["fraction_of_gemm"], "%.0f", 100).c_str());
    if (b.contains("steps_per_s_metrics_and_probe"))
      std::printf("%-10s %-8s   with the probe pass every step too: %s steps/s\n", "", "",
                  spread(b["steps_per_s_metrics_and_probe"], "%.0f").c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"gradflow training-step benchmark (one thread)"};
  app.add_option("-w,--workload", o.workloads, "DEPTHxWIDTH, e.g. 10x64 (default: all four)");
  app.add_option("-p,--precision", o.precisions, "float32 and/or float64")
      ->check(CLI::IsMember({"float32", "float64"}));
  app.add_option("-r,--repeats", o.repeats, "Interleaved repeats")->check(CLI::Range(1, 100));
  app.add_option("--min-time", o.min_time, "Seconds per timed block")->check(CLI::Range(0.01, 60.0));
  app.add_flag("--json", o.json, "Print JSON instead of the table");
  app.add_flag("--probe", o.probe, "Also time metrics with the probe pass on every step");
  app.add_option("--set", o.sets,
                 "key=value applied to each workload's config, as gradflow run --set "
                 "(e.g. model.norm=batch; benchmarks/torch_peer.py --norm/--residual)");
  CLI11_PARSE(app, argc, argv);

  std::vector<Workload> selected;
  for (const Workload& w : kWorkloads) {
    const std::string name = std::to_string(w.depth) + "x" + std::to_string(w.width);
    if (o.workloads.empty() ||
        std::find(o.workloads.begin(), o.workloads.end(), name) != o.workloads.end())
      selected.push_back(w);
  }
  for (const std::string& name : o.workloads) {  // any DxW not in the list is also allowed
    const std::size_t x = name.find('x');
    if (x == std::string::npos) {
      std::cerr << "step_bench: --workload expects DEPTHxWIDTH, got " << name << "\n";
      return 2;
    }
    const Workload w{std::stol(name.substr(0, x)), std::stol(name.substr(x + 1))};
    if (std::none_of(selected.begin(), selected.end(), [&](const Workload& s) {
          return s.depth == w.depth && s.width == w.width;
        }))
      selected.push_back(w);
  }

  Json doc;
  doc["context"] = {{"schema_version", 1},
                    {"gradflow", std::string(kVersion) + " " + kGitRevision},
                    {"compiler", kCompiler},
                    {"cpu", cpu_model()},
                    {"blas", gemm_backend()},
                    {"threads", 1},
                    {"repeats", o.repeats},
                    {"sets", o.sets},
                    {"metrics_on", kMetricsOn}};
  doc["benchmarks"] = Json::array();
  try {
    for (const Workload& w : selected)
      for (const std::string& p : o.precisions) {
        doc["benchmarks"].push_back(run_workload(w, p, o));
        if (!o.json) std::fprintf(stderr, "step_bench: %ldx%ld %s done\n", w.depth, w.width, p.c_str());
      }
  } catch (const std::exception& e) {
    std::cerr << "step_bench: " << e.what() << "\n";
    return 1;
  }
  if (o.json)
    std::cout << doc.dump(2) << "\n";
  else
    print_table(doc);
  return 0;
}
