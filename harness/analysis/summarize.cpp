// Sweep summaries; see summarize.hpp.
#include "analysis/summarize.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <unordered_set>

#include "base/errors.hpp"

namespace gradflow {
namespace {

// Metrics that hold words; every other metric must be numeric.
const std::unordered_set<std::string_view> kTextMetrics = {"verdict", "verdicts", "status"};

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

// Rows of runs.csv in sweep order: by index in sweep.json, then file order for runs it lacks.
std::vector<std::size_t> sweep_order(const ResultsFolder& folder) {
  const std::size_t id = require_column(folder.runs, "run_id");
  std::vector<std::size_t> order(folder.runs.rows.size());
  std::vector<std::size_t> rank(order.size());
  for (std::size_t r = 0; r < order.size(); ++r) {
    order[r] = r;
    const auto it = folder.run_order.find(folder.runs.rows[r][id]);
    rank[r] = it == folder.run_order.end() ? folder.run_order.size() : it->second;
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rank[a] < rank[b]; });
  return order;
}

std::size_t metric_column(const ResultsFolder& folder, const std::string& metric) {
  const std::vector<std::string> valid = metric_names(folder);
  if (std::find(valid.begin(), valid.end(), metric) == valid.end())
    throw InputError(
        "--metric", "",
        "unknown metric \"" + metric + "\"; " + folder.runs.source + " has: " + joined(valid));
  return require_column(folder.runs, metric);
}

std::optional<std::size_t> swept_column(const ResultsFolder& folder, const std::string& key,
                                        const char* option) {
  if (key.empty()) return std::nullopt;
  if (std::find(folder.swept_keys.begin(), folder.swept_keys.end(), key) == folder.swept_keys.end())
    throw InputError(option, "",
                     "\"" + key + "\" is not a swept key of " + folder.dir +
                         "; the swept keys are: " + joined(folder.swept_keys));
  return require_column(folder.runs, key);
}

void add_value(PivotCell& cell, double v, std::vector<double>& finite) {
  ++cell.runs;
  if (std::isnan(v))
    ++cell.nan;
  else if (std::isinf(v))
    ++(v > 0 ? cell.pos_inf : cell.neg_inf);
  else
    finite.push_back(v);
}

void finish_numbers(PivotCell& cell, const std::vector<double>& values) {
  cell.finite = values.size();
  if (values.empty()) return;
  double sum = 0;
  for (double v : values) sum += v;
  cell.mean = sum / double(values.size());
  if (values.size() < 2) return;
  double squares = 0;
  for (double v : values) squares += (v - cell.mean) * (v - cell.mean);
  cell.std = std::sqrt(squares / double(values.size() - 1));
}

}  // namespace

std::vector<std::string> metric_names(const ResultsFolder& folder) {
  std::unordered_set<std::string> identity(folder.swept_keys.begin(), folder.swept_keys.end());
  identity.insert({"run_id", "label"});
  std::vector<std::string> names;
  for (const std::string& c : folder.runs.header)
    if (!identity.contains(c)) names.push_back(c);
  return names;
}

RunOverview run_overview(const ResultsFolder& folder, const std::string& extra_metric) {
  std::vector<std::string> wanted = {"run_id",
                                     "label",
                                     "verdict",
                                     "final_loss",
                                     "grad_ratio_log10_init",
                                     "theory_grad_ratio_log10",
                                     "grad_ratio_log10_final",
                                     "max_dead_fraction_final"};
  if (!extra_metric.empty()) {
    metric_column(folder, extra_metric);  // refuses unknown metrics
    if (std::find(wanted.begin(), wanted.end(), extra_metric) == wanted.end())
      wanted.push_back(extra_metric);
  }
  RunOverview view;
  std::vector<std::size_t> columns;
  for (const std::string& name : wanted) {
    const std::optional<std::size_t> c = find_column(folder.runs, name);
    if (!c) continue;  // an older runs.csv without, say, verdicts: show what there is
    view.columns.push_back(name);
    view.numeric.push_back(name != "run_id" && name != "label" && !kTextMetrics.contains(name));
    columns.push_back(*c);
  }
  for (std::size_t r : sweep_order(folder)) {
    std::vector<std::string> row;
    for (std::size_t c : columns) row.push_back(folder.runs.rows[r][c]);
    view.rows.push_back(std::move(row));
  }
  return view;
}

Pivot pivot_runs(const ResultsFolder& folder, const PivotRequest& request) {
  if (!folder.is_sweep)
    throw InputError(folder.dir, "", "a single run, not a sweep: --rows and --cols need a sweep");
  if (!request.rows.empty() && request.rows == request.cols)
    throw InputError("--cols", "", "\"" + request.cols + "\" is already the rows' key");
  Pivot p;
  p.row_key = request.rows;
  p.col_key = request.cols;
  p.metric = request.metric.empty() ? "grad_ratio_log10_init" : request.metric;
  p.text_metric = kTextMetrics.contains(p.metric);
  const std::size_t metric = metric_column(folder, p.metric);
  const std::optional<std::size_t> row_col = swept_column(folder, request.rows, "--rows");
  const std::optional<std::size_t> col_col = swept_column(folder, request.cols, "--cols");

  // Values in order of first appearance in sweep order, which is the order the config lists
  // them in (grid expansion varies the later keys fastest).
  const std::vector<std::size_t> order = sweep_order(folder);
  std::map<std::pair<std::size_t, std::size_t>, std::vector<std::size_t>> members;
  const auto position = [](std::vector<std::string>& values, const std::string& v) {
    const auto it = std::find(values.begin(), values.end(), v);
    if (it != values.end()) return std::size_t(it - values.begin());
    values.push_back(v);
    return values.size() - 1;
  };
  for (std::size_t r : order) {
    const std::vector<std::string>& row = folder.runs.rows[r];
    const std::size_t i = position(p.row_values, row_col ? row[*row_col] : "");
    const std::size_t j = position(p.col_values, col_col ? row[*col_col] : "");
    members[{i, j}].push_back(r);
  }
  if (p.row_values.empty()) p.row_values.push_back("");
  if (p.col_values.empty()) p.col_values.push_back("");

  p.cells.assign(p.row_values.size(), std::vector<PivotCell>(p.col_values.size()));
  for (const auto& [at, rows] : members) {
    PivotCell& cell = p.cells[at.first][at.second];
    if (p.text_metric) {
      std::map<std::string, std::size_t> counts;
      for (std::size_t r : rows) ++counts[folder.runs.rows[r][metric]];
      cell.runs = rows.size();
      cell.counts.assign(counts.begin(), counts.end());
      std::stable_sort(cell.counts.begin(), cell.counts.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
    } else {
      std::vector<double> finite;
      for (std::size_t r : rows) add_value(cell, number_at(folder.runs, r, metric), finite);
      finish_numbers(cell, finite);
    }
  }
  return p;
}

}  // namespace gradflow
