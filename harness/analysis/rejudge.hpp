// Verdicts at command time: every command that shows a verdict (run, summarize, report,
// compare) judges the recorded indicators again with the thresholds in force for it, so
// changing a threshold never needs retraining and no file's verdict goes stale.
#pragma once

#include <string>
#include <vector>

#include "base/csv_table.hpp"
#include "config/config.hpp"

namespace gradflow {

// The thresholds a results folder records: sweep.json's "verdict" (rewritten by every `run`
// of the sweep, skipped runs included) or a single run's config.json "verdict"; the defaults
// when the folder records none (written by an older gradflow). Throws InputError for a
// malformed value.
VerdictConfig recorded_thresholds(const std::string& dir);

// `recorded` changed by "verdict.KEY=VALUE" assignments (a command's --set); any other key,
// or a value out of range, is an InputError naming --set.
VerdictConfig thresholds_with_overrides(const VerdictConfig& recorded,
                                        const std::vector<std::string>& overrides);

// Rewrites the verdict and verdicts cells of every row of a runs table (runs.csv, or a
// single run's summary.json as a one-row table) from its indicator columns and status.
// A table without those columns is left as it is.
void rejudge_runs(CsvTable& runs, const VerdictConfig& thresholds);

}  // namespace gradflow
