// One run into one folder; see run.hpp.
#include "run/run.hpp"

#include <unistd.h>

#include <filesystem>

#include "base/atomic_file.hpp"
#include "base/errors.hpp"
#include "base/memory.hpp"
#include "io/params_io.hpp"
#include "io/writers.hpp"
#include "nn/layers/layers.hpp"
#include "config/network_layout.hpp"
#include "run/plan.hpp"
#include "run/results_folder.hpp"
#include "train/train.hpp"

namespace gradflow {
namespace {

// Streams CSV rows into temp files and keeps the first and last layer records.
class RunFiles : public TrainObserver {
 public:
  RunFiles(const std::string& dir, const ProgressFn& progress)
      : dir_(dir),
        layers_file_(dir + "/layers.csv"),
        steps_file_(dir + "/steps.csv"),
        progress_(progress) {
    layers_buf_ = csv_header(kLayerColumns);
    steps_buf_ = csv_header(kStepColumns);
  }

  void on_log(const StepRecord& step, const std::vector<LayerRecord>& layers) override {
    append_step_row(steps_buf_, "", step);
    for (const LayerRecord& r : layers) append_layer_row(layers_buf_, "", r);
    if (init_layers.empty()) init_layers = layers;
    final_layers = layers;
    if (layers_buf_.size() > (1u << 20)) flush();
  }

  bool on_progress(long step, long steps, double loss) override {
    return progress_ ? progress_(step, steps, loss) : true;
  }

  void on_parameters(std::string_view when, const NetworkLayout& layout,
                     const Parameters& params) override {
    save_parameters(dir_ + "/params_" + std::string(when), layout, params);
  }

  void commit() {
    flush();
    layers_file_.commit();
    steps_file_.commit();
  }

  std::vector<LayerRecord> init_layers, final_layers;

 private:
  void flush() {
    layers_file_.write(layers_buf_);
    steps_file_.write(steps_buf_);
    layers_buf_.clear();
    steps_buf_.clear();
  }

  std::string dir_;
  AtomicFile layers_file_, steps_file_;
  std::string layers_buf_, steps_buf_;
  const ProgressFn& progress_;
};

}  // namespace

std::size_t estimated_run_bytes(const Config& config, const NetworkLayout& layout) {
  const std::size_t scalar = config.precision == Precision::float32 ? 4 : 8;
  const std::size_t optimizer_copies = config.train.optimizer == Optimizer::adam       ? 2
                                       : config.train.optimizer == Optimizer::momentum ? 1
                                                                                       : 0;
  // Every layer keeps two (units, batch) buffers: its output and its gradient or cache; a conv
  // whose step runs without im2col also keeps its padded input planes (make_workspace).
  const long batch = config.train.batch_size;
  const bool f32 = config.precision == Precision::float32;
  std::size_t units = 0, padded_planes = 0;
  std::vector<const Layer*> todo;
  for (const Layer& l : layout.layers) todo.push_back(&l);
  while (!todo.empty()) {
    const Layer* l = todo.back();
    todo.pop_back();
    units += std::size_t(l->out_units);
    if (l->kind == LayerKind::conv2d && (f32 ? conv2d_keeps_padded_input<float>(*l, batch)
                                             : conv2d_keeps_padded_input<double>(*l, batch)))
      padded_planes += std::size_t(conv2d_padded_elements(*l));
    for (const Layer& b : l->body) todo.push_back(&b);
  }
  const std::size_t batch_activations = (2 * units + padded_planes) * std::size_t(batch);
  const std::size_t probe_buffers = 3 * std::size_t(layout.max_width) *
                                    std::size_t(config.data.probe_size);
  const std::size_t params = layout.parameter_count;
  // Scalars in the run's precision plus the double copies made at init (and when saving).
  return scalar * ((2 + optimizer_copies) * params + batch_activations + probe_buffers) +
         8 * params + estimated_data_bytes(config, layout);
}

std::size_t estimated_data_bytes(const Config& config, const NetworkLayout& layout) {
  // Held at once: the generated examples, their train/probe split, and training's copy
  // (inputs plus targets or one-hot labels), in double. Sizes are validated <= 10^9 and
  // 65536, so this cannot overflow.
  const std::size_t examples = std::size_t(config.data.train_size + config.data.probe_size);
  std::size_t bytes = 3 * 8 * examples * std::size_t(layout.inputs + layout.outputs);
  const DataConfig& d = config.data;
  if (d.kind == DataKind::gaussian_mixture)  // the class means, (dim, classes)
    bytes += 8 * std::size_t(d.dim) * std::size_t(d.classes);
  if (d.kind == DataKind::teacher_student) {
    // The teacher's forward pass (data.cpp) holds a layer's weights, its input and its output
    // activations over every example at once, in double.
    const std::size_t width = std::size_t(d.teacher_width);
    bytes += 8 * (width * std::size_t(std::max(d.dim, d.teacher_width)) + 2 * width * examples);
  }
  return bytes;
}

namespace {

// The keys that size the network, as the config wrote it.
const char* model_size_keys(const ModelConfig& m) {
  if (!m.layers.empty()) return "the units or channels of model.layers";
  if (m.conv) return "model.conv.channels, model.depth or model.width";
  return "model.depth or model.width";
}

// Refuses a run whose estimated memory exceeds 80% of this machine's, naming the estimate and
// the keys to change; the data's share decides whether /data or /model is to blame.
void check_memory(const Config& config, const NetworkLayout& layout) {
  const std::size_t need = estimated_run_bytes(config, layout);
  const std::size_t have = physical_memory_bytes();
  if (!have || need <= have / 10 * 8) return;
  const std::size_t data = estimated_data_bytes(config, layout);
  const bool data_heavy = data > need / 2;
  const DataKind kind = config.data.kind;
  throw InputError(config.source, data_heavy ? "/data" : "/model",
                   "this run needs about " + gib(need) + " of memory (" +
                       std::to_string(layout.parameter_count) + " parameters, " + gib(data) +
                       " of data) but the machine has " + gib(have) + "; reduce " +
                       (!data_heavy ? model_size_keys(config.model)
                        : kind == DataKind::teacher_student
                            ? "data.train_size, data.probe_size, data.dim or data.teacher_width"
                        : kind == DataKind::gaussian_mixture
                            ? "data.train_size, data.probe_size, data.dim or data.classes"
                            : "data.train_size, data.probe_size or data.dim"));
}

NetworkLayout config_layout(const Config& config, const NetworkShape& shape) {
  return network_layout(config, network_input(shape.inputs, shape.image_shape), shape.outputs);
}

}  // namespace

void check_run_memory(const Config& config) {
  check_memory(config, config_layout(config, network_shape(config)));
}

Dataset build_dataset(const Config& config) {
  // Synthetic data's shape follows from the config: check memory before generating anything
  // (10^9 examples of dimension 65536 would not fit). A data file is bounded by its loader's
  // checks, and decides the shape itself.
  if (!is_file_data(config.data.kind)) check_run_memory(config);
  const std::uint64_t data_seed = config.data.seed.value_or(config.seed);
  return make_dataset(config.data, data_seed, config.source, config.precision);
}

PreparedRun prepare_run(const Config& config) { return prepare_run(config, nullptr); }

PreparedRun prepare_run(const Config& config, std::shared_ptr<const Dataset> data) {
  PreparedRun run;
  run.config = config;
  if (data)
    run.shared_data = std::move(data);
  else
    run.data = build_dataset(config);
  run.layout = layout_for(config, run.dataset());
  // File data may train on fewer rows than data.train_size asks (all of a file by default):
  // estimate with the rows it holds.
  Config held = config;
  if (is_file_data(config.data.kind)) {
    held.data.train_size = run.dataset().train.size();
    held.data.probe_size = run.dataset().probe.size();
  }
  check_memory(held, run.layout);

  if (config.model.init_from.empty()) {
    run.start = initial_parameters(config, run.layout);
  } else {
    std::filesystem::path folder(config.model.init_from);
    if (folder.is_relative() && !config.base_dir.empty()) folder = config.base_dir / folder;
    run.start = load_parameters(folder.string(), run.layout, config.source);
  }
  return run;
}

RunOutcome execute_run(PreparedRun run, const std::string& out_dir,
                       const ProgressFn& progress) {
  ensure_writable_dir(out_dir);
  // A rerun starts from a clean folder: nothing of the previous run (its CSVs, config.json, a
  // report built from them, temp files of a killed process) survives beside the new one.
  clear_run_folder(out_dir);
  std::error_code ec;

  RunFiles files(out_dir, progress);
  // Moved: training drops the double copy of the initial parameters once it has its own.
  const TrainResult result = train(run.config, run.dataset(), std::move(run.start), files);
  RunOutcome outcome;
  outcome.summary = result.summary;
  outcome.interrupted = result.interrupted;
  outcome.lifecycle = result.lifecycle;
  if (result.interrupted) return outcome;  // temp files are removed with `files`

  try {
    files.commit();
    std::string lifecycle = csv_header(kLifecycleColumns);
    for (const LifecycleRecord& r : result.lifecycle) append_lifecycle_row(lifecycle, "", r);
    write_file_atomic(out_dir + "/lifecycle.csv", lifecycle);
    write_file_atomic(out_dir + "/config.json", config_with_provenance(run.config).dump(2) + "\n");
    write_file_atomic(out_dir + "/summary.json", summary_to_json(result.summary).dump(2) + "\n");
  } catch (const InputError&) {
    // A write failed (a full disk): leave no CSVs that could pass for results, as an
    // interrupted run does; the caller reports the error.
    for (const char* name : {"layers.csv", "steps.csv", "lifecycle.csv", "config.json"})
      std::filesystem::remove(out_dir + "/" + name, ec);
    throw;
  }
  outcome.init_layers = std::move(files.init_layers);
  outcome.final_layers = std::move(files.final_layers);
  return outcome;
}

}  // namespace gradflow
