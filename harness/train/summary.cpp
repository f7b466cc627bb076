// Run-level gradient-flow indicators; see summary.hpp.
#include "train/summary.hpp"

#include <algorithm>
#include <cmath>

namespace gradflow {

double log10_ratio(double a, double b) {
  if (!(a >= 0) || !(b >= 0) || (a == 0 && b == 0)) return kNaN;
  return std::log10(a) - std::log10(b);
}

namespace {

double max_dead(const std::vector<LayerRecord>& layers) {
  double worst = kNaN;
  for (const LayerRecord& r : layers)
    if (!std::isnan(r.dead_fraction)) worst = std::isnan(worst) ? r.dead_fraction
                                                                : std::max(worst, r.dead_fraction);
  return worst;
}

}  // namespace

void fill_flow_indicators(RunSummary& summary, const std::vector<LayerRecord>& init,
                          const std::vector<LayerRecord>& last) {
  if (!init.empty()) {
    summary.grad_ratio_log10_init = log10_ratio(init.front().grad_w_norm, init.back().grad_w_norm);
    summary.delta_ratio_log10_init = log10_ratio(init.front().delta_norm, init.back().delta_norm);
    summary.max_dead_fraction_init = max_dead(init);
  }
  if (!last.empty()) {
    summary.grad_ratio_log10_final = log10_ratio(last.front().grad_w_norm, last.back().grad_w_norm);
    summary.delta_ratio_log10_final = log10_ratio(last.front().delta_norm, last.back().delta_norm);
    summary.max_dead_fraction_final = max_dead(last);
  }
}

void fill_lifecycle_indicators(RunSummary& summary, const std::vector<LifecycleRecord>& layers) {
  summary.units_died_fraction = layers.empty() ? kNaN : 0.0;
  summary.units_revived = 0;
  for (const LifecycleRecord& r : layers) {
    if (r.units > 0)
      summary.units_died_fraction =
          std::max(summary.units_died_fraction, double(r.died_dead_at_end) / double(r.units));
    summary.units_revived += r.revived;
  }
}

}  // namespace gradflow
