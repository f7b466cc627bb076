// Condensing a finished sweep's runs.csv for the terminal: the runs one per line, or a pivot
// of one metric over two swept keys, averaged over the other swept keys (seeds, say). Plain
// computation; the CLI formats the numbers and aligns the columns.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "analysis/compare.hpp"
#include "train/records.hpp"

namespace gradflow {

// The runs of a folder, one per row, in sweep order (sweep.json), with chosen columns.
struct RunOverview {
  std::vector<std::string> columns;
  std::vector<bool> numeric;                   // per column: format as a number
  std::vector<std::vector<std::string>> rows;  // cell texts as written in runs.csv
};

// Columns run_id, label, verdict, final_loss, grad_ratio_log10_init, theory_grad_ratio_log10,
// grad_ratio_log10_final, max_dead_fraction_final (those runs.csv has), then `extra_metric` if
// given and not among them (an unknown one is an InputError listing the valid metrics).
RunOverview run_overview(const ResultsFolder& folder, const std::string& extra_metric = "");

// One cell of a pivot: the runs sharing a row value and a column value.
struct PivotCell {
  std::size_t runs = 0;
  // Numeric metrics: mean and sample standard deviation (n - 1) of the finite values (NaN
  // when there are none, or fewer than two for the std), and how many were not finite.
  std::size_t finite = 0;
  double mean = kNaN;
  double std = kNaN;
  std::size_t nan = 0;
  std::size_t pos_inf = 0;
  std::size_t neg_inf = 0;
  // Text metrics (verdict, status): each value and how many runs had it, most frequent first.
  std::vector<std::pair<std::string, std::size_t>> counts;
};

struct PivotRequest {
  std::string rows;    // a swept key; empty: a single row
  std::string cols;    // a swept key; empty: a single column
  std::string metric;  // a runs.csv column; empty: grad_ratio_log10_init
};

struct Pivot {
  std::string row_key, col_key, metric;
  bool text_metric = false;
  std::vector<std::string> row_values;  // in sweep order; {""} when row_key is empty
  std::vector<std::string> col_values;
  std::vector<std::vector<PivotCell>> cells;  // [row][col]
};

// Throws InputError for a single-run folder, an unknown key or metric (listing the valid
// ones), the same key for rows and columns, or a metric cell that is not a number.
Pivot pivot_runs(const ResultsFolder& folder, const PivotRequest& request);

// The metrics pivot_runs and run_overview accept: runs.csv columns other than run_id, label
// and the swept keys.
std::vector<std::string> metric_names(const ResultsFolder& folder);

}  // namespace gradflow
