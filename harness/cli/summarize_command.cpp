// `gradflow summarize DIR`: a finished sweep at a glance, one line per run or a pivot of one
// metric over two swept keys; a single run's summary.json field by field.
#include <cmath>
#include <cstdio>

#include "analysis/rejudge.hpp"
#include "commands.hpp"
#include "analysis/summarize.hpp"
#include "tables.hpp"

namespace gradflow::cli {
namespace {

// 3 significant digits; unlike short_number, NaN shows as "nan": here it is a value.
std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return short_number(v);
}

std::string cell_text(const std::string& cell, bool numeric) {
  if (!numeric) return cell.empty() ? "-" : cell;
  const std::optional<double> v = parse_number(cell);
  return v ? number_text(*v) : cell;
}

std::string numeric_cell(const PivotCell& c) {
  if (c.runs == 0) return "";
  std::string out;
  if (c.finite > 0) {
    out = number_text(c.mean);
    if (c.finite > 1) (out += "±") += number_text(c.std);
  }
  // Non-finite values are left out of the mean and counted, so one diverged seed does not
  // hide the others; a cell of only non-finite values names them.
  const std::pair<std::size_t, const char*> odd[] = {
      {c.nan, "nan"}, {c.pos_inf, "inf"}, {c.neg_inf, "-inf"}};
  for (const auto& [count, name] : odd) {
    if (count == 0) continue;
    if (c.finite == 0 && count == c.runs)
      return count == 1 ? std::string(name) : std::string(name) + " ×" + std::to_string(count);
    if (!out.empty()) out += ' ';
    // Appended piecewise: `"+" + std::string` trips a GCC 12 -Wrestrict false positive.
    ((out += '+') += std::to_string(count)) += ' ';
    out += name;
  }
  return out;
}

std::string text_cell(const PivotCell& c) {
  if (c.runs == 0) return "";
  const auto& [value, count] = c.counts.front();
  const std::string shown = value.empty() ? "-" : value;
  if (count == c.runs) return shown;
  return shown + " " + std::to_string(count) + "/" + std::to_string(c.runs);
}

std::string pivot_text(const Pivot& p) {
  std::size_t fewest = SIZE_MAX, most = 0;
  for (const auto& row : p.cells)
    for (const PivotCell& c : row)
      if (c.runs > 0) fewest = std::min(fewest, c.runs), most = std::max(most, c.runs);
  std::string title = p.metric;
  if (most > 1 && p.text_metric) {
    title += " (most frequent value; n/runs when not unanimous)";
  } else if (most > 1) {
    title += " (mean±std over ";
    if (fewest < most) title += std::to_string(fewest) + "-";
    title += std::to_string(most) + " runs per cell)";
  }
  if (!p.row_key.empty()) title += ", rows " + p.row_key;
  if (!p.col_key.empty()) title += ", columns " + p.col_key;

  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {p.row_key.empty() ? "" : p.row_key};
  for (const std::string& v : p.col_values) header.push_back(p.col_key.empty() ? p.metric : v);
  rows.push_back(header);
  for (std::size_t i = 0; i < p.row_values.size(); ++i) {
    std::vector<std::string> row = {p.row_key.empty() ? "all runs" : p.row_values[i]};
    for (const PivotCell& c : p.cells[i])
      row.push_back(p.text_metric ? text_cell(c) : numeric_cell(c));
    rows.push_back(std::move(row));
  }
  std::vector<bool> right(header.size(), true);
  right[0] = false;
  return title + "\n" + text_table(rows, right);
}

std::string overview_text(const ResultsFolder& folder, const RunOverview& view) {
  std::string out = folder.dir + ": " + std::to_string(view.rows.size()) + " finished run" +
                    (view.rows.size() == 1 ? "" : "s");
  if (!folder.swept_keys.empty()) {
    out += " (swept:";
    for (const std::string& k : folder.swept_keys) out += " " + k;
    out += ")";
  }
  out += "\n";
  if (view.rows.empty()) return out;
  std::vector<std::vector<std::string>> rows = {view.columns};
  for (const auto& r : view.rows) {
    std::vector<std::string> row;
    for (std::size_t c = 0; c < r.size(); ++c) row.push_back(cell_text(r[c], view.numeric[c]));
    rows.push_back(std::move(row));
  }
  return out + text_table(rows, view.numeric);
}

// A single run: summary.json's fields, one per line.
std::string run_fields_text(const ResultsFolder& folder) {
  std::string out = folder.dir + ": a single run\n";
  std::vector<std::vector<std::string>> rows;
  const CsvTable& t = folder.runs;
  for (std::size_t c = 0; c < t.header.size(); ++c) {
    if (t.header[c] == "run_id" || t.header[c] == "label") continue;
    const std::string& cell = t.rows.front()[c];
    const std::optional<double> v = parse_number(cell);
    std::string shown = cell.empty() ? "-" : cell;  // null: not applicable, or not finite
    if (v && !cell.empty())
      shown = std::abs(*v) < 1e15 && *v == std::floor(*v) ? cell : number_text(*v);
    rows.push_back({"  " + t.header[c], shown});
  }
  return out + text_table(rows, {false, false});
}

}  // namespace


int summarize_command(const SummarizeOptions& options, const Verbosity&) {
  const ResultsFolder folder = load_results_folder(
      options.dir,
      thresholds_with_overrides(recorded_thresholds(options.dir), options.verdict_overrides));
  if (!folder.is_sweep && options.rows.empty() && options.cols.empty() && options.metric.empty()) {
    std::fputs(run_fields_text(folder).c_str(), stdout);
  } else if (options.rows.empty() && options.cols.empty()) {
    std::fputs(overview_text(folder, run_overview(folder, options.metric)).c_str(), stdout);
  } else {
    std::fputs(pivot_text(pivot_runs(folder, {options.rows, options.cols, options.metric})).c_str(),
               stdout);
  }
  return kExitOk;
}

}  // namespace gradflow::cli
