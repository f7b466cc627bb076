// Run-level indicators of gradient flow, computed from the per-layer records of the first and
// the last logged step.
#pragma once

#include <vector>

#include "train/records.hpp"

namespace gradflow {

// log10 first- over last-layer norms (grad_w_norm and delta_norm; of the first and the last
// row of kind dense, conv2d or output, whatever norm, prelu, residual or projection rows sit
// between) and the largest per-layer dead fraction (over the rows that have one), at init and at the
// end. An empty `init` (no step logged) leaves NaN.
void fill_flow_indicators(RunSummary& summary, const std::vector<LayerRecord>& init,
                          const std::vector<LayerRecord>& last);

// units_died_fraction (largest per-layer share of units alive at init and dead at the end)
// and units_revived.
void fill_lifecycle_indicators(RunSummary& summary, const std::vector<LifecycleRecord>& layers);

// log10(a / b) with the conventions used in every table: 0/0 -> NaN, 0/b -> -inf.
double log10_ratio(double a, double b);

}  // namespace gradflow
