// `gradflow compare BASELINE NEW`: new results against a baseline within a tolerance. Exit 0
// when everything matches, 1 when something drifted, 2 when runs are missing or a folder is
// unusable (so a script can tell "results changed" from "results are broken").
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "analysis/compare.hpp"
#include "tables.hpp"

namespace gradflow::cli {
namespace {

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string difference(double v) { return std::isnan(v) ? "-" : short_number(v); }

std::string run_list(const std::vector<RunRef>& runs, std::size_t max_lines) {
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < runs.size() && i < max_lines; ++i)
    rows.push_back({"  " + runs[i].id, runs[i].label});
  std::string out = text_table(rows, {false, false});
  if (runs.size() > max_lines)
    out += "  ... and " + std::to_string(runs.size() - max_lines) + " more\n";
  return out;
}

// What the baseline and new columns show for drifts that are not two cell values.
std::pair<std::string, std::string> shown_values(const Drift& d) {
  switch (d.kind) {
    case DriftKind::row_missing:
    case DriftKind::column_missing:
      return {"present", "absent"};
    case DriftKind::row_added:
      return {"absent", "present"};
    default:
      return {d.baseline.empty() ? "(empty)" : d.baseline,
              d.current.empty() ? "(empty)" : d.current};
  }
}

std::string drift_table(const std::vector<Drift>& drifts, std::size_t max_lines) {
  std::vector<std::vector<std::string>> rows = {{"  run", "label", "file", "column", "step",
                                                 "layer", "baseline", "new", "abs", "rel",
                                                 "count"}};
  for (std::size_t i = 0; i < drifts.size() && i < max_lines; ++i) {
    const Drift& d = drifts[i];
    const auto [baseline, current] = shown_values(d);
    const bool rows_drift = d.kind == DriftKind::row_missing || d.kind == DriftKind::row_added;
    rows.push_back({"  " + (d.run_id.empty() ? std::string("(all runs)") : d.run_id), d.label,
                    d.file, rows_drift ? "(rows)" : d.column, d.step, d.layer, baseline, current,
                    difference(d.abs_diff), difference(d.rel_diff), std::to_string(d.count)});
  }
  std::string out =
      text_table(rows, {false, false, false, false, true, true, true, true, true, true, true});
  if (drifts.size() > max_lines)
    out += "  ... and " + std::to_string(drifts.size() - max_lines) + " more\n";
  return out;
}

std::string compare_report_text(const CompareReport& r, const CompareOptions& tolerance,
                                std::size_t max_lines) {
  std::string out = "compared " + plural(r.runs_compared, "run") + ": " +
                    std::to_string(r.runs_compared - r.runs_drifted) + " within tolerance, " +
                    std::to_string(r.runs_drifted) + " drifted; " +
                    std::to_string(r.missing_in_new.size()) + " missing (rtol " +
                    short_number(tolerance.rtol) + ", atol " + short_number(tolerance.atol) + ")\n";
  if (!r.missing_in_new.empty()) {
    out += "missing in new: " + plural(r.missing_in_new.size(), "run") + "\n";
    out += run_list(r.missing_in_new, max_lines);
    if (r.runs_compared == 0 && !r.only_in_new.empty())
      out +=
          "note: no run id in common: ids hash the resolved config, so runs with "
          "different settings never match\n";
  }
  if (!r.only_in_new.empty()) {
    out += "warning: only in new (not compared): " + plural(r.only_in_new.size(), "run") + "\n";
    out += run_list(r.only_in_new, max_lines);
  }
  for (const std::string& c : r.columns_only_in_new)
    out += "warning: column only in new (not compared): " + c + "\n";
  for (const std::string& f : r.files_not_compared) out += "warning: not compared: " + f + "\n";
  if (!r.drifts.empty()) {
    out += "drifted values: " + std::to_string(r.values_drifted) + " of " +
           std::to_string(r.values_compared) +
           "; the worst per run and column (count: how many there), worst first:\n";
    out += drift_table(r.drifts, max_lines);
  }
  return out;
}

}  // namespace

int compare_command(const CompareCommandOptions& options, const Verbosity& verbosity) {
  const CompareOptions tolerance{options.rtol, options.atol, options.verdict_overrides};
  CompareReport report;
  try {
    report = compare_results(options.baseline, options.current, tolerance);
  } catch (const std::exception& e) {
    // Unusable input (InputError, or a filesystem failure) is exit 2 here, not main's 1:
    // for compare, 1 means "the results drifted".
    spdlog::error("{}", e.what());
    return kExitCompareUnusable;
  }
  if (!verbosity.quiet)
    std::fputs(compare_report_text(report, tolerance, options.max_lines).c_str(), stdout);
  switch (compare_outcome(report)) {
    case CompareOutcome::within_tolerance:
      return kExitOk;
    case CompareOutcome::drifted:
      return kExitCompareDrifted;
    case CompareOutcome::runs_missing:
      return kExitCompareUnusable;
  }
  return kExitCompareUnusable;
}

}  // namespace gradflow::cli
