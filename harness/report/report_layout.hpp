// What goes where on the report page, decided from the loaded folder and the user's options:
// which swept keys the sweep heatmaps put on rows, columns and panels, which key becomes one
// line per value in the gradient plots (and how runs are grouped into plots), and which runs
// get per-run sections. Plain computation; report.cpp draws the result.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "report/report_data.hpp"

namespace gradflow {

struct ReportOptions {
  std::string metric;  // runs.csv column or "verdict"; empty: the first usual one that varies
  std::string rows, cols, panel;  // swept keys; empty: chosen from sweep.json's keys
  std::vector<std::string> runs;  // run ids for the per-run sections; empty: the first few
  std::size_t max_groups = 12;    // gradient / loss plot groups
  std::size_t max_lines = 8;      // lines per plot (styles stay distinguishable up to 8)
  std::size_t max_runs = 6;       // per-run sections
  // "verdict.KEY=VALUE": thresholds the verdicts are judged with, over the folder's own.
  std::vector<std::string> verdict_overrides;
};

// One group of plots: runs that share every swept value except the line key's.
struct LineGroup {
  std::string title;               // "depth=8, lr=0.1"; empty when nothing else is swept
  std::vector<std::size_t> runs;   // ReportData::runs indices, one per line
  std::vector<std::string> lines;  // line labels ("relu", or "relu / he_normal" when zipped)
  std::vector<std::size_t> styles;  // line style per line: fixed per activation when the
                                    // lines are activations, else the line's index
  std::size_t lines_dropped = 0;   // beyond max_lines
};

struct ReportLayout {
  // Sweep heatmaps (empty rows/cols: a single row/column).
  std::string metric, rows, cols, panel;
  std::vector<std::string> panel_values;   // in sweep order; {""} without a panel key
  std::vector<std::string> averaged_keys;  // swept keys the heatmap cells average over
  // Gradient and loss plots.
  std::string line_key;                 // empty for a single run or nothing swept
  std::vector<std::string> line_keys;   // line_key and the keys zipped with it
  std::vector<LineGroup> groups;
  std::size_t groups_dropped = 0;
  std::size_t runs_not_drawn = 0;  // further seeds of a drawn (group, line)
  // Per-run sections (unit fraction heatmaps).
  std::vector<std::size_t> detail_runs;
};

// Throws InputError for an unknown metric, rows/cols/panel key that is not swept (or a
// single-run folder given one), the same key twice, or an unknown run id.
ReportLayout plan_report(const ReportData& data, const ReportOptions& options);

// The line style of an activation, the same in every report ("relu" is always blue); an
// unknown name gets the last style.
std::size_t activation_style(const std::string& name);

// The last segment of a dotted key: "model.activation" -> "activation".
std::string short_key(const std::string& key);

}  // namespace gradflow
