// Record formatting; see writers.hpp.
#include "io/writers.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>

#include "config/model_config.hpp"
#include "version.hpp"

namespace gradflow {

const std::vector<std::string_view> kLayerColumns = {
    "step",        "layer",         "kind",          "fan_in",         "fan_out",
    "grad_w_norm", "grad_b_norm",   "delta_norm",    "weight_norm",    "bias_norm",
    "update_ratio", "preact_mean",  "preact_std",    "act_mean",       "act_std",
    "dead_fraction", "inactive_fraction", "saturated_fraction", "theory_delta_log10",
    "theory_grad_w_log10", "slope_mean", "slope_min", "gate", "batch_dead_fraction",
    "window_dead_units", "c_in", "c_out", "kernel", "stride", "height", "width"};

const std::vector<std::string_view> kStepColumns = {
    "step", "lr", "loss", "accuracy", "probe_loss", "probe_accuracy", "grad_norm", "clipped"};

const std::vector<std::string_view> kLifecycleColumns = {
    "layer",       "units",   "born_dead",        "died",           "died_dead_at_end",
    "revived",     "dead_at_end", "first_death_step", "last_death_step"};

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string csv_header(const std::vector<std::string_view>& columns,
                       const std::vector<std::string_view>& prefix_columns) {
  std::string out;
  for (std::string_view c : prefix_columns) (out += c) += ',';
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i) out += ',';
    out += columns[i];
  }
  out += '\n';
  return out;
}

namespace {

void field(std::string& out, double v) {
  out += ',';
  out += format_number(v);
}
void field(std::string& out, long v) {
  out += ',';
  out += std::to_string(v);
}

}  // namespace

void append_layer_row(std::string& out, std::string_view prefix, const LayerRecord& r) {
  out += prefix;
  out += std::to_string(r.step);
  field(out, long(r.layer));
  out += ',';
  out += row_kind_name(r.kind);
  field(out, r.fan_in);
  field(out, r.fan_out);
  for (double v : {r.grad_w_norm, r.grad_b_norm, r.delta_norm, r.weight_norm, r.bias_norm,
                   r.update_ratio, r.preact_mean, r.preact_std, r.act_mean, r.act_std,
                   r.dead_fraction, r.inactive_fraction, r.saturated_fraction,
                   r.theory_delta_log10, r.theory_grad_w_log10, r.slope_mean, r.slope_min,
                   r.gate, r.batch_dead_fraction, r.window_dead_units, r.c_in, r.c_out,
                   r.kernel, r.stride, r.height, r.width})
    field(out, v);
  out += '\n';
}

void append_step_row(std::string& out, std::string_view prefix, const StepRecord& r) {
  out += prefix;
  out += std::to_string(r.step);
  for (double v : {r.lr, r.loss, r.accuracy, r.probe_loss, r.probe_accuracy, r.grad_norm})
    field(out, v);
  field(out, long(r.clipped));
  out += '\n';
}

void append_lifecycle_row(std::string& out, std::string_view prefix, const LifecycleRecord& r) {
  out += prefix;
  out += std::to_string(r.layer);
  for (long v : {r.units, r.born_dead, r.died, r.died_dead_at_end, r.revived, r.dead_at_end,
                 r.first_death_step, r.last_death_step})
    field(out, v);
  out += '\n';
}

std::string_view run_status_name(RunStatus s) {
  return s == RunStatus::completed ? "completed" : "diverged";
}

namespace {

// JSON has no NaN or Infinity: NaN is null (pandas and json.load read it as missing), an
// infinity the string "inf" or "-inf" as in the CSVs, so that a verdict judged again from the
// file sees what training saw (a layer whose gradient is exactly 0 has ratio -inf: vanishing).
Json number(double v) {
  if (std::isnan(v)) return Json(nullptr);
  if (std::isinf(v)) return Json(v > 0 ? "inf" : "-inf");
  return Json(v);
}

}  // namespace

Json summary_to_json(const RunSummary& s) {
  Json j;
  j["schema_version"] = 1;
  j["status"] = run_status_name(s.status);
  j["verdict"] = s.verdict;
  j["verdicts"] = s.verdicts;
  j["steps_done"] = s.steps_done;
  j["diverged_step"] = s.diverged_step >= 0 ? Json(s.diverged_step) : Json(nullptr);
  j["diverged_reason"] = s.diverged_reason.empty() ? Json(nullptr) : Json(s.diverged_reason);
  j["final_loss"] = number(s.final_loss);
  j["final_accuracy"] = number(s.final_accuracy);
  j["final_probe_loss"] = number(s.final_probe_loss);
  j["final_probe_accuracy"] = number(s.final_probe_accuracy);
  j["grad_ratio_log10_init"] = number(s.grad_ratio_log10_init);
  j["grad_ratio_log10_final"] = number(s.grad_ratio_log10_final);
  j["delta_ratio_log10_init"] = number(s.delta_ratio_log10_init);
  j["delta_ratio_log10_final"] = number(s.delta_ratio_log10_final);
  j["theory_grad_ratio_log10"] = number(s.theory_grad_ratio_log10);
  j["theory_delta_ratio_log10"] = number(s.theory_delta_ratio_log10);
  j["theory_caveats"] = s.theory_caveats;
  j["max_dead_fraction_init"] = number(s.max_dead_fraction_init);
  j["max_dead_fraction_final"] = number(s.max_dead_fraction_final);
  j["units_died_fraction"] = number(s.units_died_fraction);
  j["units_revived"] = s.units_revived;
  j["grad_norm_init"] = number(s.grad_norm_init);
  j["max_grad_norm"] = number(s.max_grad_norm);
  j["parameters"] = s.parameters;
  return j;
}

Json config_with_provenance(const Config& c) {
  Json j = to_json(c);
  // Relative paths were relative to the original config's folder; written absolute, this file
  // reproduces the run from wherever it is read.
  auto absolute = [&](const std::string& path) {
    if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
    return std::filesystem::absolute(std::filesystem::path(c.base_dir) / path)
        .lexically_normal()
        .string();
  };
  j["data"]["path"] = absolute(c.data.path);
  j["model"]["init_from"] = absolute(c.model.init_from);
  j["provenance"] = {{"gradflow_version", kVersion},
                     {"git_revision", kGitRevision},
                     {"compiler", kCompiler},
                     {"precision", precision_name(c.precision)},
                     {"seed", c.seed},
                     // The hidden layers as this build expands the model keys (the network
                     // appends the output layer); read back, the model keys are what count.
                     {"layers", layers_to_json(model_layers(c.model))}};
  return j;
}

}  // namespace gradflow
