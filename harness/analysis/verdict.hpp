// Each run's verdict: which gradient-flow pathologies its recorded indicators show, under
// thresholds a command can change (VerdictConfig). Several may apply; they are listed in
// precedence order diverged > exploding > dying > vanishing, and `healthy` only when none
// applies. Verdicts are never read back from a file: every command judges the indicators
// again with the thresholds in force for it (docs/theory.md, Verdicts).
#pragma once

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "train/records.hpp"

namespace gradflow {

enum class Verdict { diverged, exploding, dying, vanishing, healthy };  // precedence order
inline constexpr std::size_t kVerdictCount = 5;
extern const std::array<std::string_view, kVerdictCount> kVerdictNames;

// The rules read a RunSummary's status, grad_ratio_log10_*, delta_ratio_log10_*,
// grad_norm_init, max_grad_norm, units_died_fraction and max_dead_fraction_init; a missing
// indicator is NaN and never triggers a verdict.

// Those fields of a recorded run (columns of runs.csv, keys of summary.json of the same
// names): `status` as written ("completed", "diverged"), `number(name)` the indicator of that
// name (NaN when absent or not a number). The other fields keep their defaults.
RunSummary indicators_from(std::string_view status,
                           const std::function<double(std::string_view)>& number);

// Never empty; the first element is the headline verdict.
std::vector<Verdict> judge_run(const RunSummary& indicators, const VerdictConfig& thresholds);

// "dying+vanishing": the verdicts joined with '+'.
std::string verdict_list(const std::vector<Verdict>& verdicts);

// Sets summary.verdict and summary.verdicts from its indicators.
void judge_summary(RunSummary& summary, const VerdictConfig& thresholds);

}  // namespace gradflow
