// Loading a results folder for the report; see report_data.hpp.
#include "report/report_data.hpp"

#include "analysis/rejudge.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <unordered_map>

#include "config/config.hpp"
#include "base/csv_table.hpp"
#include "base/errors.hpp"
#include "run/sweep_output.hpp"

namespace gradflow {
namespace {

namespace fs = std::filesystem;

std::string in_dir(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

// Rows of a table grouped by run: a sweep table's run_id column, or all rows under "run".
std::unordered_map<std::string, std::vector<std::size_t>> rows_by_run(const CsvTable& t,
                                                                      bool sweep) {
  std::unordered_map<std::string, std::vector<std::size_t>> out;
  const std::optional<std::size_t> id = sweep ? std::optional(require_column(t, "run_id"))
                                              : std::nullopt;
  for (std::size_t r = 0; r < t.rows.size(); ++r) out[id ? t.rows[r][*id] : "run"].push_back(r);
  return out;
}

double cell(const CsvTable& t, std::size_t row, std::optional<std::size_t> column) {
  return column ? number_at(t, row, *column) : kNaN;
}

void read_layers(const CsvTable& t, const std::vector<std::size_t>& rows, RunData& run) {
  const std::size_t step = require_column(t, "step"), layer = require_column(t, "layer");
  const std::size_t grad_w = require_column(t, "grad_w_norm");
  const std::size_t delta = require_column(t, "delta_norm");
  const auto dead = find_column(t, "dead_fraction");
  const auto inactive = find_column(t, "inactive_fraction");
  const auto saturated = find_column(t, "saturated_fraction");
  const auto theory_w = find_column(t, "theory_grad_w_log10");
  const auto theory_d = find_column(t, "theory_delta_log10");
  std::vector<double> tw, td;
  for (std::size_t r : rows) {
    const long s = static_cast<long>(number_at(t, r, step));
    const double l = number_at(t, r, layer);
    if (!(l >= 1 && l == std::floor(l)))
      throw InputError(t.source, "", "line " + std::to_string(t.lines[r]) +
                                         ": layer must be an integer >= 1, got " + t.rows[r][layer]);
    if (run.layers.empty() || run.layers.back().step != s) run.layers.push_back({s, {}, {}, {}, {}, {}});
    LayerStep& ls = run.layers.back();
    const std::size_t i = static_cast<std::size_t>(l) - 1;
    if (i != ls.grad_w.size())
      throw InputError(t.source, "", "line " + std::to_string(t.lines[r]) + ": layer " +
                                         t.rows[r][layer] + " out of order (expected " +
                                         std::to_string(ls.grad_w.size() + 1) + ")");
    ls.grad_w.push_back(number_at(t, r, grad_w));
    ls.delta.push_back(number_at(t, r, delta));
    ls.dead.push_back(cell(t, r, dead));
    ls.inactive.push_back(cell(t, r, inactive));
    ls.saturated.push_back(cell(t, r, saturated));
    if (s == 0) tw.push_back(cell(t, r, theory_w)), td.push_back(cell(t, r, theory_d));
  }
  const auto any_finite = [](const std::vector<double>& v) {
    return std::any_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
  };
  if (any_finite(tw)) run.theory_grad_w_log10 = std::move(tw);
  if (any_finite(td)) run.theory_delta_log10 = std::move(td);
}

void read_steps(const CsvTable& t, const std::vector<std::size_t>& rows, RunData& run) {
  const std::size_t step = require_column(t, "step");
  const auto loss = find_column(t, "loss"), accuracy = find_column(t, "accuracy");
  const auto probe_loss = find_column(t, "probe_loss");
  const auto probe_accuracy = find_column(t, "probe_accuracy");
  for (std::size_t r : rows) {
    run.step.push_back(number_at(t, r, step));
    run.loss.push_back(cell(t, r, loss));
    run.accuracy.push_back(cell(t, r, accuracy));
    run.probe_loss.push_back(cell(t, r, probe_loss));
    run.probe_accuracy.push_back(cell(t, r, probe_accuracy));
  }
}

// The activation and width from a run folder's config.json; `fallback` is the swept
// model.activation (the committed baselines keep the tables but not the run folders).
void read_config(const std::string& run_dir, const std::string& fallback, RunData& run) {
  const std::string path = in_dir(run_dir, "config.json");
  std::error_code ec;
  Json model;
  if (fs::exists(path, ec)) {
    const Json doc = read_json_file(path);
    if (doc.is_object() && doc.contains("model") && doc["model"].is_object()) model = doc["model"];
  }
  std::string name = fallback;
  if (model.contains("activation") && model["activation"].is_string())
    name = model["activation"].get<std::string>();
  if (model.contains("width")) {
    const Json& w = model["width"];
    if (w.is_number_integer()) run.width = w.get<long>();
    if (w.is_array() && !w.empty() && w[0].is_number_integer()) run.width = w[0].get<long>();
  }
  Activation kind;
  if (name.empty() || !parse_activation(name, kind)) {
    run.activation = name;
    return;
  }
  run.activation = name;
  run.activation_known = true;
  double param = 0;
  const char* key = kind == Activation::leaky_relu ? "leaky_slope"
                    : kind == Activation::elu     ? "elu_alpha"
                                                  : nullptr;
  if (key) param = model.contains(key) && model[key].is_number() ? model[key].get<double>()
                   : kind == Activation::elu                     ? 1.0
                                                                 : 0.01;
  run.activation_spec = {kind, param};
}

void read_caveats(const std::string& run_dir, RunData& run) {
  const std::string path = in_dir(run_dir, "summary.json");
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  const Json doc = read_json_file(path);
  if (!doc.is_object() || !doc.contains("theory_caveats")) return;
  const Json& c = doc["theory_caveats"];
  if (!c.is_array()) throw InputError(path, "/theory_caveats", "expected an array of strings");
  run.has_caveats = true;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!c[i].is_string())
      throw InputError(path, "/theory_caveats/" + std::to_string(i), "expected a string");
    run.caveats.push_back(c[i].get<std::string>());
  }
}

}  // namespace

ReportData load_report_data(const std::string& dir,
                            const std::vector<std::string>& verdict_overrides) {
  ReportData data;
  data.folder = load_results_folder(
      dir, thresholds_with_overrides(recorded_thresholds(dir), verdict_overrides));
  const ResultsFolder& f = data.folder;
  const bool sweep = f.is_sweep;
  if (sweep) {
    const SweepManifest m = read_manifest(dir);
    data.name = m.name;
    data.planned_runs = m.runs.size();
    data.swept_keys = m.swept_keys;
  } else {
    data.name = fs::path(dir).lexically_normal().filename().string();
    if (data.name.empty())
      data.name = fs::path(dir).lexically_normal().parent_path().filename().string();
    const std::string config = in_dir(dir, "config.json");
    std::error_code ec;
    if (fs::exists(config, ec)) {
      const Json doc = read_json_file(config);
      if (doc.is_object() && doc.contains("name") && doc["name"].is_string())
        data.name = doc["name"].get<std::string>();
    }
  }
  const CsvTable layers = read_csv_table(in_dir(dir, "layers.csv"));
  const CsvTable steps = read_csv_table(in_dir(dir, "steps.csv"));
  const auto layer_rows = rows_by_run(layers, sweep);
  const auto step_rows = rows_by_run(steps, sweep);

  const CsvTable& runs = f.runs;
  const std::size_t id_col = require_column(runs, "run_id");
  const auto label_col = find_column(runs, "label"), verdict_col = find_column(runs, "verdict");
  std::vector<std::size_t> swept_cols;
  for (const std::string& k : data.swept_keys) swept_cols.push_back(require_column(runs, k));
  const auto activation_col = find_column(runs, "model.activation");

  // Sweep order: index in sweep.json, then file order for runs it lacks.
  std::vector<std::size_t> order(runs.rows.size());
  for (std::size_t r = 0; r < order.size(); ++r) order[r] = r;
  const auto rank = [&](std::size_t r) {
    const auto it = f.run_order.find(runs.rows[r][id_col]);
    return it == f.run_order.end() ? f.run_order.size() : it->second;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });

  for (std::size_t r : order) {
    RunData run;
    run.id = runs.rows[r][id_col];
    if (label_col) run.label = runs.rows[r][*label_col];
    if (verdict_col) run.verdict = runs.rows[r][*verdict_col];
    for (std::size_t c : swept_cols) run.swept.push_back(runs.rows[r][c]);
    const std::string run_dir = sweep ? run_folder(dir, run.id) : dir;
    read_config(run_dir, activation_col && sweep ? runs.rows[r][*activation_col] : "", run);
    read_caveats(run_dir, run);
    const auto l = layer_rows.find(run.id);
    if (l == layer_rows.end())
      throw InputError(layers.source, "", "no rows for run " + run.id + " (listed in " +
                                              runs.source + ")");
    read_layers(layers, l->second, run);
    if (const auto s = step_rows.find(run.id); s != step_rows.end())
      read_steps(steps, s->second, run);
    data.runs.push_back(std::move(run));
  }
  return data;
}

}  // namespace gradflow
