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

// Rows without an activation after them (norm rows feeding none, residual rows inside a
// stack, the output) hold NaN: skipped, so they cannot poison the max.
double max_dead(const std::vector<LayerRecord>& layers) {
  double worst = kNaN;
  for (const LayerRecord& r : layers)
    if (!std::isnan(r.dead_fraction)) worst = std::isnan(worst) ? r.dead_fraction
                                                                : std::max(worst, r.dead_fraction);
  return worst;
}

// The ratios compare weight layers: the first and the last row with a weight matrix of the
// forward path (dense, conv2d or output). A norm, prelu or residual row has other tensors, and
// a projection sits on a skip, so neither may stand for "the first layer". A conv net's layer 1
// is its first conv2d: without it a stem of convs before a bare read-out would compare the
// output layer with itself (ratio 0 whatever the gradient does).
bool weight_row(const LayerRecord& r) {
  return r.kind == RowKind::dense || r.kind == RowKind::conv2d || r.kind == RowKind::output;
}

struct FirstLast {
  const LayerRecord* first = nullptr;
  const LayerRecord* last = nullptr;
};

FirstLast weight_rows(const std::vector<LayerRecord>& layers) {
  FirstLast out;
  for (const LayerRecord& r : layers)
    if (weight_row(r)) {
      if (!out.first) out.first = &r;
      out.last = &r;
    }
  return out;
}

void fill_ratios(const std::vector<LayerRecord>& layers, double& grad_ratio, double& delta_ratio,
                 double& dead) {
  const FirstLast w = weight_rows(layers);
  if (w.first) {
    grad_ratio = log10_ratio(w.first->grad_w_norm, w.last->grad_w_norm);
    delta_ratio = log10_ratio(w.first->delta_norm, w.last->delta_norm);
  }
  dead = max_dead(layers);
}

}  // namespace

void fill_flow_indicators(RunSummary& summary, const std::vector<LayerRecord>& init,
                          const std::vector<LayerRecord>& last) {
  if (!init.empty())
    fill_ratios(init, summary.grad_ratio_log10_init, summary.delta_ratio_log10_init,
                summary.max_dead_fraction_init);
  if (!last.empty())
    fill_ratios(last, summary.grad_ratio_log10_final, summary.delta_ratio_log10_final,
                summary.max_dead_fraction_final);
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
