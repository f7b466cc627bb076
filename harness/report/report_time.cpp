// Figures over training time; see report_time.hpp.
#include "report/report_time.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>

#include "report/plot_svg.hpp"
#include "report/svg.hpp"

namespace gradflow {
namespace {

constexpr int kPlotWidth = 400, kPlotHeight = 290;
constexpr std::size_t kMaxCurvePoints = 400;

std::vector<double> picked(const std::vector<double>& v, const std::vector<std::size_t>& at) {
  std::vector<double> out;
  for (std::size_t i : at) out.push_back(i < v.size() ? v[i] : kNaN);
  return out;
}

// A log-axis plot against step, the shape of every figure here.
svg::LinePlot step_plot(const std::string& title, const std::string& y_label,
                        const std::string& note, const std::string& zero_note) {
  svg::LinePlot p;
  p.width = kPlotWidth, p.height = kPlotHeight;
  p.title = title;
  p.x_label = "step";
  p.y_label = y_label + " (log scale)";
  p.y_log = true;
  p.note = note;
  p.zero_note = zero_note;
  return p;
}

// "layer 3" for a plain MLP (every row dense), else "row 3 batch_norm".
std::string row_label(const RunData& run, std::size_t row) {
  return plain_kinds(run) ? "layer " + std::to_string(row + 1) : "row " + row_name(run, row);
}

// One line per picked row of `rows`: the column `v` of each logged step.
struct StepLines {
  std::vector<double> steps;
  std::vector<std::size_t> at;  // picked logged steps
};
StepLines step_lines(const RunData& run) {
  StepLines out;
  out.at = spread_indices(run.layers.size(), kMaxCurvePoints);
  for (std::size_t i : out.at) out.steps.push_back(double(run.layers[i].step));
  return out;
}
std::vector<double> row_over_steps(const RunData& run, const StepLines& sl, std::size_t row,
                                   std::vector<double> LayerStep::*v) {
  std::vector<double> y;
  for (std::size_t i : sl.at) {
    const std::vector<double>& col = run.layers[i].*v;
    y.push_back(row < col.size() ? col[row] : kNaN);
  }
  return y;
}

}  // namespace

std::string divergence_note(const RunData& run) {
  if (!run.diverged()) return "";
  std::string out = "diverged";
  if (run.diverged_step >= 0) out += " at step " + std::to_string(run.diverged_step);
  if (!run.layers.empty())
    out += "; drawn are its " + std::to_string(run.layers.size()) + " logged steps from " +
           std::to_string(run.layers.front().step) + " to " +
           std::to_string(run.layers.back().step) + " (non-finite values are left out)";
  return out;
}

std::string norm_step_heatmap(const RunData& run, NormKind kind, std::size_t max_columns) {
  svg::Heatmap m;
  m.title = kind == NormKind::grad_w
                ? "\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82W\xE2\x80\x96 per layer and step"
                : "\xE2\x80\x96\xCE\xB4\xE2\x80\x96 per layer and step";
  m.x_label = run.diverged() ? "step (diverged at the last)" : "step";
  const bool plain = plain_kinds(run);
  m.y_label = plain ? "dense layer (top: output)" : "layers.csv row (top: output)";
  m.scale_label = kind == NormKind::grad_w ? "grad_w_norm" : "delta_norm";
  m.log10_values = true;
  m.zero_label = "0: no gradient";
  const std::vector<std::size_t> carriers =
      rows_with(run, kind == NormKind::grad_w ? RowQuantity::grad_w : RowQuantity::delta);
  const std::vector<std::size_t> cols = spread_indices(run.layers.size(), max_columns);
  std::vector<std::size_t> rows;
  for (std::size_t i : spread_indices(carriers.size(), 64)) rows.push_back(carriers[i]);
  for (std::size_t c : cols) m.x_labels.push_back(std::to_string(run.layers[c].step));
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (auto r = rows.rbegin(); r != rows.rend(); ++r) {
    m.y_labels.push_back(plain ? std::to_string(*r + 1) : row_name(run, *r));
    std::vector<double> row;
    for (std::size_t c : cols) {
      const std::vector<double>& v =
          kind == NormKind::grad_w ? run.layers[c].grad_w : run.layers[c].delta;
      const double x = *r < v.size() ? v[*r] : kNaN;
      // log10(0) = -inf: drawn black; negative or non-finite norms: no value (hatched).
      const double e = x == 0                      ? -std::numeric_limits<double>::infinity()
                       : x > 0 && std::isfinite(x) ? std::log10(x)
                                                   : kNaN;
      if (std::isfinite(e)) lo = std::min(lo, e), hi = std::max(hi, e);
      row.push_back(e);
    }
    m.values.push_back(std::move(row));
  }
  // One scale for the whole map, in whole decades so the bar's ends read 10^k.
  if (!(lo <= hi)) lo = -1, hi = 0;
  m.lo = std::floor(lo), m.hi = std::max(std::ceil(hi), m.lo + 1);
  m.cell_width = std::clamp(int(260 / std::max<std::size_t>(cols.size(), 1)), 3, 36);
  m.cell_height = std::clamp(int(220 / std::max<std::size_t>(rows.size(), 1)), 3, 24);
  m.max_x_labels = std::max(2, int(m.cell_width * cols.size() / 48));
  m.max_y_labels = std::max(2, int(m.cell_height * rows.size() / 16));
  return svg::heatmap(m);
}

std::string update_ratio_plot(const RunData& run) {
  svg::LinePlot p = step_plot("update ratio per layer",
                              "\xE2\x80\x96\xCE\x94W\xE2\x80\x96 / \xE2\x80\x96W\xE2\x80\x96",
                              "dashed: 1e-3, the usual healthy size of an update",
                              "0: no update (the weights did not move)");
  p.guides.push_back({1e-3, "1e-3"});
  const std::vector<std::size_t> carriers = rows_with(run, RowQuantity::grad_w);
  const StepLines sl = step_lines(run);
  const std::vector<double>& steps = sl.steps;
  std::vector<svg::LegendEntry> legend;
  const std::vector<std::size_t> picked_rows = spread_indices(carriers.size(), svg::kLineStyles);
  for (std::size_t k = 0; k < picked_rows.size(); ++k) {
    const std::size_t row = carriers[picked_rows[k]];
    const bool output = row < run.kinds.size() && run.kinds[row] == "output";
    const std::string label = row_label(run, row) + (output && plain_kinds(run) ? " (output)" : "");
    p.series.push_back({label, steps, row_over_steps(run, sl, row, &LayerStep::update_ratio), k,
                        false, true, {}});
    legend.push_back({label, k, false, true});
  }
  if (run.diverged() && !steps.empty()) p.marks.push_back({steps.back(), "diverged", 4});
  return "<figure><div>" + svg::legend(legend, kPlotWidth) + "</div><div>" + svg::line_plot(p) +
         "</div></figure>";
}

namespace {

// One line per picked row for each of `lines` (same style per row; markers on the first).
struct RowLine {
  const char* suffix;
  std::vector<double> LayerStep::*values;
  bool markers;
};
std::string rows_over_steps_plot(const RunData& run, RowQuantity quantity, const char* title,
                                 const char* y_label, const char* note,
                                 std::initializer_list<RowLine> lines) {
  const std::vector<std::size_t> rows = rows_with(run, quantity);
  if (rows.empty()) return "";
  svg::LinePlot p;
  p.width = kPlotWidth, p.height = kPlotHeight;
  p.title = title;
  p.x_label = "step";
  p.y_label = y_label;
  p.note = note;
  const StepLines sl = step_lines(run);
  std::vector<svg::LegendEntry> legend;
  const std::vector<std::size_t> picked_rows = spread_indices(rows.size(), svg::kLineStyles);
  for (std::size_t k = 0; k < picked_rows.size(); ++k) {
    const std::size_t row = rows[picked_rows[k]];
    const std::string label = "row " + row_name(run, row);
    for (const RowLine& line : lines)
      p.series.push_back({label + line.suffix, sl.steps, row_over_steps(run, sl, row, line.values),
                          k, false, line.markers, {}});
    legend.push_back({label, k, false, true});
  }
  if (run.diverged() && !sl.steps.empty()) p.marks.push_back({sl.steps.back(), "diverged", 4});
  return "<figure><div>" + svg::legend(legend, kPlotWidth) + "</div><div>" + svg::line_plot(p) +
         "</div></figure>";
}

}  // namespace

std::string slope_plot(const RunData& run) {
  return rows_over_steps_plot(run, RowQuantity::slope, "PReLU slopes per layer", "learned slope",
                              "markers: mean over the layer's units; plain line: the smallest",
                              {{" mean", &LayerStep::slope_mean, true},
                               {" min", &LayerStep::slope_min, false}});
}

std::string gate_plot(const RunData& run) {
  return rows_over_steps_plot(
      run, RowQuantity::gate, "residual gate per block", "branch scale (ReZero: \xCE\xB1)",
      "out = skip + scale \xC2\xB7 branch; only ReZero's \xCE\xB1 is learnt (from 0)",
      {{"", &LayerStep::gate, true}});
}

std::string grad_norm_plot(const ReportData& data, const LineGroup& group) {
  svg::LinePlot p = step_plot("global gradient norm",
                              "\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82\xCE\xB8\xE2\x80\x96",
                              "before clipping, on each step's training batch", "0: no gradient");
  for (std::size_t i = 0; i < group.runs.size(); ++i) {
    const RunData& run = data.runs[group.runs[i]];
    const std::size_t style = i < group.styles.size() ? group.styles[i] : i;
    const std::vector<std::size_t> at = spread_indices(run.step.size(), kMaxCurvePoints);
    p.series.push_back(
        {group.lines[i], picked(run.step, at), picked(run.grad_norm, at), style, false, true, {}});
    if (run.diverged() && !run.step.empty())
      p.marks.push_back({run.step.back(), "diverged", style});
  }
  return svg::line_plot(p);
}

}  // namespace gradflow
