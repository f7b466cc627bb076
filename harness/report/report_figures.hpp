// The report's figures, each an SVG string built from loaded results: gradient norm per layer
// (measured, and the mean-field prediction at init), loss and accuracy curves, unit fractions
// per layer and step, sweep heatmaps, and activation functions with their derivatives.
#pragma once

#include <string>
#include <vector>

#include "report/plot_svg.hpp"
#include "report/report_data.hpp"
#include "report/report_layout.hpp"
#include "analysis/summarize.hpp"

namespace gradflow {

enum class NormKind { grad_w, delta };
enum class FractionKind { dead, inactive, saturated };

// Norm per layer of each line's run at step 0 (`at_end` false, with the prediction dashed
// when the folder has one) or at its last logged step: the rows that carry the norm, x = the
// layers.csv row, each point's tooltip naming its kind ("3 batch_norm").
std::string norm_plot(const ReportData& data, const LineGroup& group, NormKind kind, bool at_end);
// Probe loss (and, for a single run, the training-batch loss dashed) against step.
std::string loss_plot(const ReportData& data, const LineGroup& group);
// Probe accuracy against step; empty when no run has one (regression).
std::string accuracy_plot(const ReportData& data, const LineGroup& group);
// The lines' legend; `theory` adds the "dashed: prediction" entry.
std::string group_legend(const LineGroup& group, bool theory, int width);

// The unit measures worth drawing for a run's activation, and what to say about them:
// relu: dead and saturated, which for relu is the z < 0 side, i.e. sparsity (a healthy ReLU
// net is about half zeros; Glorot, Bordes & Bengio 2011); inactive would repeat dead.
// leaky_relu: inactive only (phi' is never 0 nor below 1% of its max). sigmoid, tanh,
// softplus: saturated only (phi' > 0 everywhere, and z <= 0 is not special). identity:
// none. Others (elu, selu, gelu, silu, unknown): inactive and saturated, plus dead for unknown.
struct UnitMeasures {
  std::vector<FractionKind> kinds;
  std::string note;
};
UnitMeasures unit_measures(const RunData& run);

// A run's fraction per layers.csv row that feeds an activation (rows, last layer on top; for
// a plain MLP every hidden layer; labelled "3 batch_norm" unless the run is plain) and logged
// step (columns, at most `max_columns`, evenly picked with the first and last step kept).
std::string fraction_heatmap(const RunData& run, FractionKind kind, std::size_t max_columns = 60);

// A sweep pivot as a heatmap: colour by the cell mean on [lo, hi] (numbers), or by verdict
// (text metrics, cells labelled so it reads in grey too). Metrics where more is worse (dead,
// died, saturated fractions, losses) are drawn reversed, so darker means worse on the whole
// page, as for the verdicts and the unit maps.
std::string pivot_heatmap(const Pivot& pivot, const std::string& title, double lo, double hi);
// Whether `metric` is drawn darker for larger values.
bool more_is_worse(const std::string& metric);
// The finite range of a pivot's cell means.
void pivot_range(const Pivot& pivot, double& lo, double& hi);

// phi on [-19, 19] (`derivative` false) or phi', with the |phi'| < 1% of max bands shaded.
std::string activation_plot(const ActivationSpec& activation, bool derivative);

// Up to `count` indices of [0, n), evenly spread, first and last included.
std::vector<std::size_t> spread_indices(std::size_t n, std::size_t count);

}  // namespace gradflow
