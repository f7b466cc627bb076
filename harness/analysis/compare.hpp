// Regression check between two results folders (single runs or sweeps): runs are matched by
// id and every recorded number is compared within a tolerance, like numpy.isclose. Plain
// computation over loaded tables; the CLI formats the report and chooses the exit code.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/csv_table.hpp"
#include "config/config.hpp"
#include "train/records.hpp"

namespace gradflow {

// A results folder as compare and summarize read it. A folder with sweep.json is a sweep;
// one with summary.json (and no sweep.json) is a single run, whose id is "run".
struct ResultsFolder {
  std::string dir;
  bool is_sweep = false;
  std::vector<std::string> swept_keys;                     // sweep.json; empty for a run
  std::unordered_map<std::string, std::size_t> run_order;  // id -> index in sweep.json
  // One row per finished run, with columns run_id and (usually) label: a sweep's runs.csv,
  // or a single run's summary.json as a one-row table (run_id "run", label empty, JSON null
  // as an empty cell).
  CsvTable runs;
  VerdictConfig thresholds;  // the ones runs' verdicts were judged with
};

// Throws InputError: no such folder, neither a run nor a sweep, a malformed sweep.json,
// summary.json or runs.csv (ragged, no run_id column, a run id twice).
// The verdict and verdicts cells are judged again from the recorded indicators (rejudge.hpp)
// with `thresholds`, or without them with the thresholds the folder records.
ResultsFolder load_results_folder(const std::string& dir,
                                  const std::optional<VerdictConfig>& thresholds = std::nullopt);

// Everything compare reads from one folder.
struct LoadedResults {
  ResultsFolder folder;
  CsvTable layers;  // layers.csv; a sweep's has a first column run_id, a run's has none
  CsvTable steps;   // steps.csv, likewise
  std::optional<CsvTable> lifecycle;  // lifecycle.csv, keyed by layer; older folders lack it
};
LoadedResults load_results(const std::string& dir,
                           const std::optional<VerdictConfig>& thresholds = std::nullopt);

struct CompareOptions {
  double rtol = 1e-6;
  double atol = 1e-9;
  // Both folders' verdicts are judged with the new folder's recorded thresholds changed by
  // these "verdict.KEY=VALUE" assignments, so a verdict drifts only when its indicators do.
  std::vector<std::string> verdict_overrides = {};
};

// |current - baseline| <= atol + rtol * |baseline|; NaN matches only NaN, an infinity only
// the same infinity (the formula alone would accept any number against inf).
bool values_match(double baseline, double current, const CompareOptions& options);

enum class DriftKind {
  value,           // two numbers differ beyond tolerance (or NaN against a number)
  text,            // a string column (status, verdict, ...) changed, or a number became text
  row_missing,     // a (step[, layer]) row of the baseline is absent from the new results
  row_added,       // the new results have a row the baseline lacks
  column_missing,  // a column of the baseline is absent from the new file (all runs)
};

// The worst difference in one (run, file, column); `count` says how many cells drifted there.
struct Drift {
  DriftKind kind = DriftKind::value;
  std::string run_id;  // empty for column_missing: it concerns every run
  std::string label;
  std::string file;      // "runs.csv" or "summary.json", "layers.csv", "steps.csv", "lifecycle.csv"
  std::string column;    // empty for row_missing / row_added
  std::string step;      // location of the worst cell as written in the file; empty when
  std::string layer;     // the file has no such key (runs.csv, steps.csv has no layer)
  std::string baseline;  // cell texts; empty for rows and columns that are absent
  std::string current;
  double abs_diff = kNaN;  // |current - baseline|; NaN when not two numbers (text, NaN vs 1)
  double rel_diff = kNaN;  // abs_diff / |baseline|; inf when the baseline is 0 or infinite
  std::size_t count = 1;
};

struct RunRef {
  std::string id;
  std::string label;
};

struct CompareReport {
  std::size_t runs_compared = 0;                 // present in both
  std::size_t runs_drifted = 0;                  // of those, with at least one drift
  std::vector<RunRef> missing_in_new;            // a failure: the new results lost runs
  std::vector<RunRef> only_in_new;               // a warning only
  std::vector<std::string> columns_only_in_new;  // "layers.csv:foo"; a warning only
  std::vector<std::string> files_not_compared;   // an optional file only one folder has
  std::vector<Drift> drifts;                     // worst first: see drift_severity
  std::size_t values_compared = 0;
  std::size_t values_drifted = 0;
};

enum class CompareOutcome { within_tolerance, drifted, runs_missing };
CompareOutcome compare_outcome(const CompareReport& report);

// Sort key, larger is worse: the relative difference, with comparisons that have none
// (text, NaN against a number, rows or columns absent) ranked above every number.
double drift_severity(const Drift& d);

// Compares `current` against `baseline`. Throws InputError when one is a sweep and the other
// a single run, or a file is malformed (a duplicate key row, a missing key column).
CompareReport compare_loaded(const LoadedResults& baseline, const LoadedResults& current,
                             const CompareOptions& options);

// load_results on both folders, then compare_loaded.
CompareReport compare_results(const std::string& baseline_dir, const std::string& new_dir,
                              const CompareOptions& options);

}  // namespace gradflow
