// Loading a results folder for the report; see report_data.hpp.
#include "report/report_data.hpp"

#include "analysis/rejudge.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <unordered_map>

#include "config/config.hpp"
#include "config/run_label.hpp"
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

bool weight_kind(const std::string& k) {
  return k == "dense" || k == "output" || k == "projection" || k == "prelu";
}

void read_layers(const CsvTable& t, const std::vector<std::size_t>& rows, RunData& run) {
  const std::size_t step = require_column(t, "step"), layer = require_column(t, "layer");
  const std::size_t grad_w = require_column(t, "grad_w_norm");
  const std::size_t delta = require_column(t, "delta_norm");
  const auto kind = find_column(t, "kind");
  const auto dead = find_column(t, "dead_fraction");
  const auto inactive = find_column(t, "inactive_fraction");
  const auto saturated = find_column(t, "saturated_fraction");
  const auto update = find_column(t, "update_ratio");
  const auto theory_w = find_column(t, "theory_grad_w_log10");
  const auto theory_d = find_column(t, "theory_delta_log10");
  const auto slope_mean = find_column(t, "slope_mean"), slope_min = find_column(t, "slope_min");
  const auto gate = find_column(t, "gate");
  std::vector<double> tw, td;
  double last_layer = 0;
  for (std::size_t r : rows) {
    const long s = static_cast<long>(number_at(t, r, step));
    const double l = number_at(t, r, layer);
    if (!(l >= 1 && l == std::floor(l)))
      throw InputError(t.source, "", "line " + std::to_string(t.lines[r]) +
                                         ": layer must be an integer >= 1, got " + t.rows[r][layer]);
    if (run.layers.empty() || run.layers.back().step != s) {
      run.layers.push_back({s, {}, {}, {}, {}, {}, {}, {}, {}, {}});
      last_layer = 0;
    }
    LayerStep& ls = run.layers.back();
    if (l == last_layer) continue;  // a second row of the same layer: the first is drawn
    if (l < last_layer)
      throw InputError(t.source, "",
                       "line " + std::to_string(t.lines[r]) + ": layer " + t.rows[r][layer] +
                           " out of order (after layer " +
                           std::to_string(static_cast<long>(last_layer)) + ")");
    last_layer = l;
    if (ls.grad_w.size() >= run.kinds.size()) {  // the first step that reaches this row
      std::string k = kind ? t.rows[r][*kind] : "";
      if (k == "hidden") k = "dense";
      run.kinds.push_back(k);
    }
    ls.grad_w.push_back(number_at(t, r, grad_w));
    ls.delta.push_back(number_at(t, r, delta));
    ls.dead.push_back(cell(t, r, dead));
    ls.inactive.push_back(cell(t, r, inactive));
    ls.saturated.push_back(cell(t, r, saturated));
    ls.update_ratio.push_back(cell(t, r, update));
    ls.slope_mean.push_back(cell(t, r, slope_mean));
    ls.slope_min.push_back(cell(t, r, slope_min));
    ls.gate.push_back(cell(t, r, gate));
    if (s == 0) tw.push_back(cell(t, r, theory_w)), td.push_back(cell(t, r, theory_d));
  }
  // No kind column (or empty cells): the rows of an MLP, the last one its output layer.
  for (std::size_t i = 0; i < run.kinds.size(); ++i)
    if (run.kinds[i].empty()) run.kinds[i] = i + 1 == run.kinds.size() ? "output" : "dense";
  // A prediction beyond the output layer's own 0 (a conv net's grad_w has only that one).
  const auto predicts = [](const std::vector<double>& v) {
    return std::count_if(v.begin(), v.end(), [](double x) { return std::isfinite(x); }) > 1;
  };
  if (predicts(tw)) run.theory_grad_w_log10 = std::move(tw);
  if (predicts(td)) run.theory_delta_log10 = std::move(td);
}

void read_steps(const CsvTable& t, const std::vector<std::size_t>& rows, RunData& run) {
  const std::size_t step = require_column(t, "step");
  const auto loss = find_column(t, "loss"), accuracy = find_column(t, "accuracy");
  const auto probe_loss = find_column(t, "probe_loss");
  const auto probe_accuracy = find_column(t, "probe_accuracy");
  const auto grad_norm = find_column(t, "grad_norm");
  for (std::size_t r : rows) {
    run.step.push_back(number_at(t, r, step));
    run.loss.push_back(cell(t, r, loss));
    run.accuracy.push_back(cell(t, r, accuracy));
    run.probe_loss.push_back(cell(t, r, probe_loss));
    run.probe_accuracy.push_back(cell(t, r, probe_accuracy));
    run.grad_norm.push_back(cell(t, r, grad_norm));
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

// A swept column's cells as the run labels write them (config/run_label.hpp), so a swept
// layer list reads "conv8 relu 7x(conv8 relu)" in headings, heatmap rows and the run table
// instead of its JSON. Only lists and objects change; words and numbers stay as they are.
void readable_cells(CsvTable& runs, std::size_t column) {
  std::vector<Json> values;
  for (const auto& row : runs.rows) {
    const std::string& cell = row[column];
    Json v = Json::parse(cell, nullptr, false);
    if (cell.empty() || (cell.front() != '[' && cell.front() != '{') || v.is_discarded())
      v = Json(cell);
    values.push_back(std::move(v));
  }
  const std::vector<std::string> labels = distinct_labels(values);
  for (std::size_t r = 0; r < runs.rows.size(); ++r) runs.rows[r][column] = labels[r];
}

}  // namespace

std::vector<std::size_t> rows_with(const RunData& run, RowQuantity q) {
  // A value recorded at some logged step (inf counts: it was measured); NaN means "not this row".
  const auto any_value = [&](std::size_t row, std::vector<double> LayerStep::*v) {
    return std::any_of(run.layers.begin(), run.layers.end(), [&](const LayerStep& s) {
      return row < (s.*v).size() && !std::isnan((s.*v)[row]);
    });
  };
  const bool plain = plain_kinds(run);
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < run.kinds.size(); ++i) {
    const std::string& k = run.kinds[i];
    bool carries = false;
    switch (q) {
      case RowQuantity::grad_w: carries = weight_kind(k) || any_value(i, &LayerStep::grad_w); break;
      case RowQuantity::delta: carries = true; break;
      case RowQuantity::units:
        // A plain MLP's hidden rows always (as before the layer stack, hatched where the
        // probe left no value); other stacks: the rows the probe filled.
        carries = k != "output" && ((k == "dense" && plain) || any_value(i, &LayerStep::dead) ||
                                    any_value(i, &LayerStep::inactive) ||
                                    any_value(i, &LayerStep::saturated));
        break;
      case RowQuantity::slope: carries = k == "prelu" && any_value(i, &LayerStep::slope_mean); break;
      case RowQuantity::gate: carries = k == "residual" && any_value(i, &LayerStep::gate); break;
    }
    if (carries) out.push_back(i);
  }
  return out;
}

bool plain_kinds(const RunData& run) {
  return std::all_of(run.kinds.begin(), run.kinds.end(),
                     [](const std::string& k) { return k == "dense" || k == "output"; });
}

std::string row_name(const RunData& run, std::size_t row) {
  return std::to_string(row + 1) + (row < run.kinds.size() ? " " + run.kinds[row] : "");
}

std::size_t dense_rows(const RunData& run) {
  return std::size_t(std::count(run.kinds.begin(), run.kinds.end(), "dense"));
}

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
  for (const std::string& k : data.swept_keys)
    readable_cells(data.folder.runs, require_column(data.folder.runs, k));
  const CsvTable layers = read_csv_table(in_dir(dir, "layers.csv"));
  const CsvTable steps = read_csv_table(in_dir(dir, "steps.csv"));
  const auto layer_rows = rows_by_run(layers, sweep);
  const auto step_rows = rows_by_run(steps, sweep);

  const CsvTable& runs = f.runs;
  const std::size_t id_col = require_column(runs, "run_id");
  const auto label_col = find_column(runs, "label"), verdict_col = find_column(runs, "verdict");
  const auto status_col = find_column(runs, "status");
  const auto diverged_col = find_column(runs, "diverged_step");
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
    if (status_col) run.status = runs.rows[r][*status_col];
    if (diverged_col)
      if (const auto v = parse_number(runs.rows[r][*diverged_col]); v && *v >= 0)
        run.diverged_step = static_cast<long>(*v);
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

std::vector<std::string> folder_labels(const std::vector<std::string>& dirs) {
  // The last component, then the last two, ... until every label is distinct.
  std::vector<std::vector<std::string>> parts;
  for (const std::string& d : dirs) {
    std::vector<std::string> p;
    for (const auto& c : fs::path(d).lexically_normal())
      if (!c.empty() && c != "." && c != "/") p.push_back(c.string());
    if (p.empty()) p.push_back(d);
    parts.push_back(std::move(p));
  }
  std::vector<std::string> labels(dirs.size());
  for (std::size_t depth = 1;; ++depth) {
    bool longer = false;
    for (std::size_t i = 0; i < dirs.size(); ++i) {
      const std::vector<std::string>& p = parts[i];
      std::string l;
      for (std::size_t k = p.size() > depth ? p.size() - depth : 0; k < p.size(); ++k)
        l += (l.empty() ? "" : "/") + p[k];
      labels[i] = l;
      longer = longer || p.size() > depth;
    }
    std::vector<std::string> sorted = labels;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end() || !longer) break;
  }
  for (std::size_t i = 0; i < labels.size(); ++i)  // the same folder twice: number them
    for (std::size_t j = 0; j < i; ++j)
      if (labels[j] == labels[i]) labels[i] += " (" + std::to_string(i + 1) + ")";
  return labels;
}

ReportData merge_report_data(const std::vector<std::string>& dirs,
                             std::vector<ReportData> folders) {
  GF_ASSERT(dirs.size() == folders.size() && !folders.empty());
  const std::vector<std::string> labels = folder_labels(dirs);
  ReportData out;
  out.sources = labels;
  out.swept_keys = {"folder"};
  for (const ReportData& f : folders)
    for (const std::string& k : f.swept_keys)
      if (std::find(out.swept_keys.begin(), out.swept_keys.end(), k) == out.swept_keys.end())
        out.swept_keys.push_back(k);
  // runs.csv joined: run_id, label, the swept keys, then every other column in first-seen order.
  CsvTable& t = out.folder.runs;
  t.header = {"run_id", "label"};
  t.header.insert(t.header.end(), out.swept_keys.begin(), out.swept_keys.end());
  for (const ReportData& f : folders)
    for (const std::string& c : f.folder.runs.header)
      if (std::find(t.header.begin(), t.header.end(), c) == t.header.end()) t.header.push_back(c);
  out.planned_runs = 0;
  for (std::size_t i = 0; i < folders.size(); ++i) {
    ReportData& f = folders[i];
    out.name += (i ? " + " : "") + labels[i];
    out.folder.dir += (i ? ", " : "") + f.folder.dir;
    t.source += (i ? ", " : "") + f.folder.runs.source;
    out.planned_runs += f.planned_runs;
    const CsvTable& ft = f.folder.runs;
    const std::size_t fid = require_column(ft, "run_id");
    std::unordered_map<std::string, std::size_t> row_of;
    for (std::size_t r = 0; r < ft.rows.size(); ++r) row_of[ft.rows[r][fid]] = r;
    for (RunData& run : f.runs) {
      const std::size_t fr = row_of.at(run.id);
      std::vector<std::string> row;
      for (const std::string& c : t.header) {
        const auto fc = find_column(ft, c);
        const bool swept =
            std::find(out.swept_keys.begin(), out.swept_keys.end(), c) != out.swept_keys.end();
        row.push_back(c == "folder" ? labels[i] : fc ? ft.rows[fr][*fc] : swept ? "-" : "");
      }
      run.id = f.folder.is_sweep ? labels[i] + "/" + run.id : labels[i];  // a run's id is "run"
      row[0] = run.id;
      // A single-run folder's run is known by its folder (several may share a config name).
      if (!f.folder.is_sweep) run.label = labels[i];
      if (run.label.empty()) run.label = f.name;
      row[1] = run.label;
      run.source = labels[i];
      run.swept.clear();
      for (std::size_t k = 0; k < out.swept_keys.size(); ++k) run.swept.push_back(row[2 + k]);
      out.folder.run_order[run.id] = out.runs.size();
      t.rows.push_back(std::move(row));
      t.lines.push_back(ft.lines.empty() ? 0 : ft.lines[fr]);
      out.runs.push_back(std::move(run));
    }
  }
  out.folder.is_sweep = true;
  out.folder.swept_keys = out.swept_keys;
  return out;
}

}  // namespace gradflow
