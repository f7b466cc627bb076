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

RunSummary indicators_from(std::string_view status,
                           const std::function<double(std::string_view)>& number) {
  RunSummary v;
  v.status = status == "diverged" ? RunStatus::diverged : RunStatus::completed;
  v.grad_ratio_log10_init = number("grad_ratio_log10_init");
  v.grad_ratio_log10_final = number("grad_ratio_log10_final");
  v.delta_ratio_log10_init = number("delta_ratio_log10_init");
  v.delta_ratio_log10_final = number("delta_ratio_log10_final");
  v.grad_norm_init = number("grad_norm_init");
  v.max_grad_norm = number("max_grad_norm");
  v.units_died_fraction = number("units_died_fraction");
  v.max_dead_fraction_init = number("max_dead_fraction_init");
  return v;
}

std::vector<Verdict> judge_run(const RunSummary& s, const VerdictConfig& t) {
  std::vector<Verdict> out;
  if (s.status == RunStatus::diverged) out.push_back(Verdict::diverged);
  // Judged on what explodes: the back-propagated signal. For relu at gain g, delta grows g-fold
  // per layer towards the input while grad_w's first/last ratio stays flat (the activations
  // shrink at the same rate), so grad_ratio cannot see it. And the global gradient norm's
  // growth over every step, which catches a blow-up that ends in NaN (diverged+exploding).
  const bool delta_explodes = above(s.delta_ratio_log10_init, t.exploding_decades) ||
                              above(s.delta_ratio_log10_final, t.exploding_decades);
  const bool norm_grows = s.grad_norm_init > 0 &&
                          above(s.max_grad_norm / s.grad_norm_init, t.exploding_growth);
  if (delta_explodes || norm_grows) out.push_back(Verdict::exploding);
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

void judge_summary(RunSummary& summary, const VerdictConfig& thresholds) {
  const std::vector<Verdict> verdicts = judge_run(summary, thresholds);
  summary.verdict = kVerdictNames[std::size_t(verdicts.front())];
  summary.verdicts = verdict_list(verdicts);
}

}  // namespace gradflow
