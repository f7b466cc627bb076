// Verdict rules; the thresholds and their defaults are documented in docs/theory.md ("Verdicts").
#include "analysis/verdict.hpp"

#include <cmath>

namespace gradflow {

const std::array<std::string_view, kVerdictCount> kVerdictNames = {
    "diverged", "exploding", "dying", "vanishing", "healthy"};
static_assert(std::size_t(Verdict::healthy) + 1 == kVerdictCount);

namespace {

// NaN-safe comparisons: a missing indicator never triggers a verdict.
bool below(double v, double limit) { return !std::isnan(v) && v < limit; }
bool above(double v, double limit) { return !std::isnan(v) && v > limit; }

}  // namespace

std::vector<Verdict> judge_run(const RunSummary& s, const VerdictConfig& t) {
  std::vector<Verdict> out;
  if (s.status == RunStatus::diverged) out.push_back(Verdict::diverged);
  const bool ratio_explodes = above(s.grad_ratio_log10_init, t.exploding_decades) ||
                              above(s.grad_ratio_log10_final, t.exploding_decades);
  const bool norm_grows = s.grad_norm_init > 0 &&
                          above(s.max_grad_norm / s.grad_norm_init, t.exploding_growth);
  if (ratio_explodes || norm_grows) out.push_back(Verdict::exploding);
  // Judged against the step-0 baseline: units that died during training, or a layer that was
  // mostly dead from the start (e.g. a large negative bias init).
  if (above(s.units_died_fraction, t.dying_fraction) ||
      above(s.max_dead_fraction_init, t.dying_fraction))
    out.push_back(Verdict::dying);
  if (below(s.grad_ratio_log10_init, -t.vanishing_decades) ||
      below(s.grad_ratio_log10_final, -t.vanishing_decades))
    out.push_back(Verdict::vanishing);
  if (out.empty()) out.push_back(Verdict::healthy);
  return out;
}

std::string verdict_list(const std::vector<Verdict>& verdicts) {
  std::string out;
  for (Verdict v : verdicts) {
    if (!out.empty()) out += '+';
    out += kVerdictNames[std::size_t(v)];
  }
  return out;
}

}  // namespace gradflow
