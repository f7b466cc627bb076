// Each run's verdict: which gradient-flow pathologies its summary shows, from thresholds a
// config can change (VerdictConfig). Several may apply; they are listed in precedence order
// diverged > exploding > dying > vanishing, and `healthy` only when none applies.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "train/records.hpp"

namespace gradflow {

enum class Verdict { diverged, exploding, dying, vanishing, healthy };  // precedence order
inline constexpr std::size_t kVerdictCount = 5;
extern const std::array<std::string_view, kVerdictCount> kVerdictNames;

// Never empty; the first element is the headline verdict.
std::vector<Verdict> judge_run(const RunSummary& summary, const VerdictConfig& thresholds);

// "dying+vanishing": the verdicts joined with '+'.
std::string verdict_list(const std::vector<Verdict>& verdicts);

}  // namespace gradflow
