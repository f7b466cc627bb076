// What the HTML report draws, loaded from a run or a sweep folder into plain structs: each
// finished run's per-layer norms and unit fractions by logged step, its loss curves, its
// activation (from config.json), and the mean-field prediction at init with its caveats when
// the folder has them (older folders do not; the report then leaves the prediction out).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "nn/activation.hpp"
#include "analysis/compare.hpp"

namespace gradflow {

// One logged step of one run; vectors are per layers.csv row (every kind: dense, output,
// projection, batch_norm, layer_norm, prelu, residual), index 0 = row 1, last = output layer.
// A row that does not carry a quantity holds NaN there (a norm row has no dead fraction, a
// residual row without ReZero has no gradient); rows_with says which rows carry which.
struct LayerStep {
  long step = 0;
  std::vector<double> grad_w, delta, dead, inactive, saturated, update_ratio;
  std::vector<double> slope_mean, slope_min, gate;  // prelu rows; residual rows
};

// What a per-layer figure draws.
enum class RowQuantity {
  grad_w,    // rows with parameters: dense, output, projection, prelu, and the norm and
             // residual rows whose values say they have some (affine gamma, ReZero alpha)
  delta,     // every row
  units,     // rows that feed an activation (a finite dead, inactive or saturated value)
  slope,     // prelu rows
  gate,      // residual rows
};

struct RunData {
  std::string id;  // "run" for a single-run folder
  std::string label;
  std::string source;              // the folder label when several folders are overlaid; else empty
  std::string status;              // runs.csv / summary.json: completed or diverged
  long diverged_step = -1;         // the step that diverged; -1 when none
  std::vector<std::string> swept;  // runs.csv cells, one per ReportData::swept_keys
  std::string verdict;
  std::string activation;  // config.json model.activation; empty when unknown
  ActivationSpec activation_spec;
  bool activation_known = false;
  long width = 0;  // first hidden layer's width (config.json); 0 when unknown
  std::vector<LayerStep> layers;  // logged steps in file order (step 0 first)
  // layers.csv's kind per row. Folders written before the layer stack say "hidden", read as
  // "dense"; folders without the column get "dense" for every row but the last ("output").
  std::vector<std::string> kinds;
  // Mean-field prediction at step 0 (theory.hpp), per layer: log10 of the layer's norm over
  // the output layer's. Empty when layers.csv has no theory columns or no finite value.
  std::vector<double> theory_grad_w_log10, theory_delta_log10;
  bool has_caveats = false;           // summary.json has theory_caveats
  std::vector<std::string> caveats;   // why the prediction may not hold; empty: it applies
  // steps.csv
  std::vector<double> step, loss, accuracy, probe_loss, probe_accuracy, grad_norm;
  bool diverged() const { return diverged_step >= 0 || status == "diverged"; }
};

struct ReportData {
  ResultsFolder folder;  // runs.csv (a sweep) or summary.json as one row (a run)
  std::string name;      // the sweep's or run's name
  std::size_t planned_runs = 1;         // sweep.json's runs; 1 for a single run
  std::vector<std::string> swept_keys;  // sweep.json order
  std::vector<RunData> runs;            // finished runs, sweep order
  std::vector<std::string> sources;     // folder labels when several are overlaid (key "folder")
};

// Throws InputError naming the file: no such folder, not a results folder, a malformed or
// ragged table, a non-numeric cell, a run in runs.csv without rows in layers.csv.
// Verdicts are judged with the folder's recorded thresholds changed by `verdict_overrides`
// ("verdict.KEY=VALUE", analysis/rejudge.hpp).
// Indices (0-based rows) of `run`'s rows that carry `q`, in forward order.
std::vector<std::size_t> rows_with(const RunData& run, RowQuantity q);
// Every row is dense or output (a plain MLP, or a folder from before the layer stack).
bool plain_kinds(const RunData& run);
// "3 batch_norm": the 1-based row and its kind.
std::string row_name(const RunData& run, std::size_t row);
// Rows of kind dense (hidden dense layers; the output row is not counted).
std::size_t dense_rows(const RunData& run);

ReportData load_report_data(const std::string& dir,
                            const std::vector<std::string>& verdict_overrides = {});

// Several folders as one sweep with a first swept key "folder" (each folder's label: its
// last path component, with more of the path when two would read the same). The run tables
// are joined (union of columns, "-" where a folder lacks a swept key, empty cells for
// missing metrics); run ids become "<label>/<id>" so they stay unique.
ReportData merge_report_data(const std::vector<std::string>& dirs, std::vector<ReportData> folders);

// The label of each folder as merge_report_data uses it.
std::vector<std::string> folder_labels(const std::vector<std::string>& dirs);

}  // namespace gradflow
