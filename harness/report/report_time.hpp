// The report's figures over training time: per run, layer x step heatmaps of the weight
// gradient and back-propagated signal norms and the per-layer update ratio against step; per
// group of runs, the global gradient norm against step. A diverged run's files keep the steps
// before it diverged; they are drawn, and marked "diverged" at the last one.
#pragma once

#include <cstddef>
#include <string>

#include "report/report_data.hpp"
#include "report/report_figures.hpp"
#include "report/report_layout.hpp"

namespace gradflow {

// A run's norm per layers.csv row that carries it (rows, output layer on top; for the weight
// gradient the rows with parameters, for delta every row; labelled "3 batch_norm" unless the
// run is a plain MLP) and logged step (columns, at most
// `max_columns`, evenly picked with the first and last kept), coloured by log10 of the norm
// on one scale over the whole map; exact zeros are black ("0: no gradient").
std::string norm_step_heatmap(const RunData& run, NormKind kind, std::size_t max_columns = 60);

// update_ratio (|dW| / |W| of the update that led to each step) against step, one line per
// row with a weight-like tensor (at most 8, evenly picked, first and last kept), on a log axis with the 1e-3 guide
// (Karpathy, "A Recipe for Training Neural Networks", 2019: about 1e-3 is healthy). With its
// legend above it.
std::string update_ratio_plot(const RunData& run);

// PReLU slopes against step: per prelu row (at most 8), the slopes' mean (line with markers)
// and minimum (plain line, same colour). "" when the run has no prelu rows.
std::string slope_plot(const RunData& run);

// The residual gate per block against step: the branch scale s, which only moves for ReZero
// (alpha, learnt from 0). "" when the run has no residual rows.
std::string gate_plot(const RunData& run);

// The global gradient norm (steps.csv grad_norm, before clipping) against step, one line per
// run of the group, on a log axis.
std::string grad_norm_plot(const ReportData& data, const LineGroup& group);

// "diverged at step N: its last M logged steps before it are drawn" for a diverged run, else "".
std::string divergence_note(const RunData& run);

}  // namespace gradflow
