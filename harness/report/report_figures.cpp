// Report figures; see report_figures.hpp. Everything measured is a solid line with markers;
// a prediction is dashed in the same colour, so both read in grey.
#include "report/report_figures.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "report/svg.hpp"

namespace gradflow {
namespace {

constexpr int kPlotWidth = 400, kPlotHeight = 290;

const std::vector<double>& norms(const LayerStep& s, NormKind kind) {
  return kind == NormKind::grad_w ? s.grad_w : s.delta;
}

std::string norm_symbol(NormKind kind) {
  // ‖∂L/∂W_l‖ and ‖δ_l‖ in UTF-8.
  return kind == NormKind::grad_w ? "\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82W\xE2\x80\x96"
                                  : "\xE2\x80\x96\xCE\xB4\xE2\x80\x96";
}

// A line's style: fixed per activation when the group says so (plan_report), else its index.
std::size_t style_of(const LineGroup& g, std::size_t i) {
  return i < g.styles.size() ? g.styles[i] : i;
}

// The rows of `run` that carry `kind`: their 1-based numbers (the x axis), values at step `s`
// and hover titles ("3 batch_norm").
struct RowSeries {
  std::vector<std::size_t> rows;
  std::vector<double> x, y;
  std::vector<std::string> titles;
};
RowSeries row_series(const RunData& run, const LayerStep& s, NormKind kind) {
  RowSeries out;
  out.rows = rows_with(run, kind == NormKind::grad_w ? RowQuantity::grad_w : RowQuantity::delta);
  const std::vector<double>& v = norms(s, kind);
  for (std::size_t r : out.rows) {
    out.x.push_back(double(r + 1));
    out.y.push_back(r < v.size() ? v[r] : kNaN);
    out.titles.push_back(row_name(run, r));
  }
  return out;
}

// Verdicts from best to worst, in falling luminance, so the order survives grey printing.
std::string verdict_fill(const std::string& verdict) {
  const std::string head = verdict.substr(0, verdict.find('+'));
  if (head == "healthy" || head == "completed") return svg::hex(svg::viridis(1.0));
  if (head == "vanishing") return svg::hex(svg::viridis(0.72));
  if (head == "dying") return svg::hex(svg::viridis(0.45));
  if (head == "exploding") return svg::hex(svg::viridis(0.2));
  if (head == "diverged") return svg::hex(svg::viridis(0.0));
  return "#bbbbbb";
}

// A curve thinned to at most kMaxCurvePoints evenly spread points (first and last kept), so
// runs logged at thousands of steps keep the page small.
constexpr std::size_t kMaxCurvePoints = 400;
std::vector<double> thinned(const std::vector<double>& v, const std::vector<std::size_t>& at) {
  std::vector<double> out;
  for (std::size_t i : at) out.push_back(v[i]);
  return out;
}

}  // namespace

std::vector<std::size_t> spread_indices(std::size_t n, std::size_t count) {
  std::vector<std::size_t> out;
  if (n == 0 || count == 0) return out;
  if (n <= count) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  if (count == 1) return {n - 1};
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t i = (k * (n - 1) + (count - 1) / 2) / (count - 1);
    if (out.empty() || out.back() != i) out.push_back(i);
  }
  return out;
}

std::string norm_plot(const ReportData& data, const LineGroup& group, NormKind kind,
                      bool at_end) {
  svg::LinePlot p;
  p.width = kPlotWidth, p.height = kPlotHeight;
  p.y_log = true;
  p.integer_x = true;
  bool plain = true;
  for (std::size_t run : group.runs) plain = plain && plain_kinds(data.runs[run]);
  // A plain MLP: every row is a dense layer. Other stacks: x is the layers.csv row, and each
  // point's tooltip names its kind; rows without the quantity (a residual row's gradient
  // without ReZero) are left out, and the line joins the rows that have it.
  p.x_label = plain ? "dense layer (1 = first hidden, last = output)"
                    : "layers.csv row (last = output)";  // hovering a point names its kind
  p.y_label = norm_symbol(kind) + (kind == NormKind::grad_w ? " (Frobenius)" : " (RMS over examples)");
  p.zero_note = "0: no gradient";
  long last_step = -1;
  bool same_end = true, theory = false, before_divergence = false;
  for (std::size_t i = 0; i < group.runs.size(); ++i) {
    const RunData& run = data.runs[group.runs[i]];
    if (run.layers.empty()) continue;
    // At the end: the last logged step with a finite norm, which for a diverged run is the
    // last one before it diverged.
    std::size_t last = run.layers.size() - 1;
    const auto finite = [&](const LayerStep& st) {
      const std::vector<double>& v = norms(st, kind);
      return std::any_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
    };
    while (at_end && last > 0 && !finite(run.layers[last])) --last;
    const LayerStep& s = at_end ? run.layers[last] : run.layers.front();
    if (at_end) same_end = same_end && (last_step < 0 || last_step == s.step), last_step = s.step;
    before_divergence = before_divergence || (at_end && last + 1 < run.layers.size());
    const RowSeries rs = row_series(run, s, kind);
    const std::vector<double>& y = rs.y;
    std::vector<std::string> titles = rs.titles;
    if (group.lines.size() > 1)
      for (std::string& t : titles) t += " (" + group.lines[i] + ")";
    p.series.push_back({group.lines[i], rs.x, y, style_of(group, i), false, true, titles});
    const std::vector<double>& t =
        kind == NormKind::grad_w ? run.theory_grad_w_log10 : run.theory_delta_log10;
    if (at_end || t.size() != norms(s, kind).size() || y.empty() || !(y.back() > 0) ||
        !std::isfinite(y.back()))
      continue;
    // The prediction is relative to the output layer: anchor it at the measured output norm.
    std::vector<double> ty;
    for (std::size_t r : rs.rows) ty.push_back(std::pow(10.0, std::log10(y.back()) + t[r]));
    p.series.push_back({group.lines[i] + " (theory)", rs.x, ty, style_of(group, i), true, false, {}});
    theory = true;
  }
  double layers = 1;
  for (const svg::Series& s : p.series)
    for (double x : s.x) layers = std::max(layers, x);
  p.x_min = 0.5, p.x_max = layers + 0.5;
  if (at_end) {
    p.title = norm_symbol(kind) + " per layer at the end" +
              (same_end && last_step >= 0 ? " (step " + std::to_string(last_step) + ")" : "");
    p.note = before_divergence
                 ? "diverged runs: their last step with finite norms; no prediction after init"
                 : "no prediction: the theory describes the network at init only";
  } else {
    p.title = norm_symbol(kind) + " per layer at init (step 0)";
    p.note = theory ? "dashed: mean-field prediction, anchored at the output layer"
                    : "no prediction in this folder";
  }
  return svg::line_plot(p);
}

namespace {

// One line per run of `group`: a probe-set column of steps.csv over the logged steps.
svg::LinePlot probe_curves(const ReportData& data, const LineGroup& group, const std::string& what,
                           std::vector<double> RunData::*column) {
  svg::LinePlot p;
  p.width = kPlotWidth, p.height = kPlotHeight;
  p.title = what + " on the probe set";
  p.x_label = "step";
  p.y_label = what;
  for (std::size_t i = 0; i < group.runs.size(); ++i) {
    const RunData& run = data.runs[group.runs[i]];
    const std::vector<std::size_t> at = spread_indices(run.step.size(), kMaxCurvePoints);
    p.series.push_back({group.lines[i], thinned(run.step, at), thinned(run.*column, at),
                        style_of(group, i), false, true, {}});
    if (run.diverged() && !run.step.empty())
      p.marks.push_back({run.step.back(), "diverged", style_of(group, i)});
  }
  return p;
}

}  // namespace

std::string loss_plot(const ReportData& data, const LineGroup& group) {
  svg::LinePlot p = probe_curves(data, group, "loss", &RunData::probe_loss);
  const bool single = !data.folder.is_sweep;
  if (single) {  // a run folder holds one run: its training-batch loss beside the probe loss
    for (std::size_t run : group.runs) {
      const RunData& r = data.runs[run];
      const std::vector<std::size_t> at = spread_indices(r.step.size(), kMaxCurvePoints);
      p.series.push_back({"training batch", thinned(r.step, at), thinned(r.loss, at), 1, true, false, {}});
    }
  }
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  bool positive = true;
  for (const svg::Series& s : p.series)
    for (double v : s.y)
      if (std::isfinite(v)) positive = positive && v > 0, lo = std::min(lo, v), hi = std::max(hi, v);
  // On a log axis, like the gradient norms, so a loss falling by decades reads as a slope.
  p.y_log = positive && hi > lo;
  if (p.y_log) p.y_label += " (log scale)";
  if (single) p.note = "dashed: loss on the training batch of each step";
  return svg::line_plot(p);
}

std::string accuracy_plot(const ReportData& data, const LineGroup& group) {
  svg::LinePlot p = probe_curves(data, group, "accuracy", &RunData::probe_accuracy);
  p.y_min = 0, p.y_max = 1;
  bool any = false;
  for (std::size_t run : group.runs)
    for (double v : data.runs[run].probe_accuracy) any = any || std::isfinite(v);
  return any ? svg::line_plot(p) : "";
}

std::string group_legend(const LineGroup& group, bool theory, int width) {
  std::vector<svg::LegendEntry> entries;
  for (std::size_t i = 0; i < group.lines.size(); ++i)
    entries.push_back({group.lines[i], style_of(group, i), false, true});
  if (theory) entries.push_back({"mean-field prediction (same colour)", 7, true, false});
  return svg::legend(entries, width);
}

UnitMeasures unit_measures(const RunData& run) {
  using F = FractionKind;
  if (!run.activation_known) return {{F::dead, F::inactive, F::saturated}, ""};
  switch (run.activation_spec.kind) {
    case Activation::relu:
      return {{F::dead, F::saturated},
              "relu: dead and inactive are the same units, so only dead is drawn. "
              "\"Saturated\" for relu means z < 0, a zero output: that is sparsity, not a "
              "fault; a healthy ReLU net is about half zeros."};
    case Activation::leaky_relu:
      return {{F::inactive},
              "leaky_relu: no unit is ever dead or saturated (its slope never reaches 0); "
              "inactive shows the units that would be dead as ReLU."};
    case Activation::sigmoid:
    case Activation::tanh:
    case Activation::softplus:
      return {{F::saturated},
              std::string(activation_name(run.activation_spec.kind)) +
                  ": \xCF\x86\xE2\x80\xB2 > 0 everywhere, so no unit is dead and z \xE2\x89\xA4 0 "
                  "is not special; saturation is what stops the gradient."};
    case Activation::identity:
      return {{}, "identity: no unit can be dead, inactive or saturated."};
    default:
      return {{F::inactive, F::saturated}, ""};
  }
}

std::string fraction_heatmap(const RunData& run, FractionKind kind, std::size_t max_columns) {
  const bool relu = run.activation_known && run.activation_spec.kind == Activation::relu;
  const char* kTitles[] = {"dead units", "inactive units",
                           relu ? "zero outputs (relu sparsity)" : "saturated (unit, input) pairs"};
  static constexpr const char* kScales[] = {"fraction of units", "fraction of units",
                                            "fraction of pairs"};
  const std::size_t k = static_cast<std::size_t>(kind);
  svg::Heatmap m;
  m.title = kTitles[k];
  m.x_label = "step";
  const bool plain = plain_kinds(run);
  // The rows whose output an activation reads (for a plain MLP: every hidden layer).
  m.y_label = plain ? "hidden dense layer" : "layers.csv row feeding an activation";
  m.scale_label = kScales[k];
  m.reversed = true;  // more dead is darker
  const std::vector<std::size_t> carriers = rows_with(run, RowQuantity::units);
  const std::vector<std::size_t> cols = spread_indices(run.layers.size(), max_columns);
  std::vector<std::size_t> rows;
  for (std::size_t i : spread_indices(carriers.size(), 64)) rows.push_back(carriers[i]);
  for (std::size_t c : cols) m.x_labels.push_back(std::to_string(run.layers[c].step));
  for (auto r = rows.rbegin(); r != rows.rend(); ++r) {
    m.y_labels.push_back(plain ? std::to_string(*r + 1) : row_name(run, *r));
    std::vector<double> row;
    for (std::size_t c : cols) {
      const LayerStep& s = run.layers[c];
      const std::vector<double>& v = kind == FractionKind::dead       ? s.dead
                                     : kind == FractionKind::inactive ? s.inactive
                                                                      : s.saturated;
      row.push_back(*r < v.size() ? v[*r] : kNaN);
    }
    m.values.push_back(std::move(row));
  }
  m.cell_width = std::clamp(int(240 / std::max<std::size_t>(cols.size(), 1)), 3, 36);
  m.cell_height = std::clamp(int(220 / std::max<std::size_t>(rows.size(), 1)), 3, 24);
  m.max_x_labels = std::max(2, int(m.cell_width * cols.size() / 48));
  m.max_y_labels = std::max(2, int(m.cell_height * rows.size() / 16));
  return svg::heatmap(m);
}

void pivot_range(const Pivot& p, double& lo, double& hi) {
  for (const auto& row : p.cells)
    for (const PivotCell& c : row)
      if (std::isfinite(c.mean)) lo = std::min(lo, c.mean), hi = std::max(hi, c.mean);
}

bool more_is_worse(const std::string& metric) {
  for (const char* word : {"dead", "died", "saturated", "loss"})
    if (metric.find(word) != std::string::npos) return true;
  return false;
}

std::string pivot_heatmap(const Pivot& p, const std::string& title, double lo, double hi) {
  svg::Heatmap m;
  m.reversed = more_is_worse(p.metric);
  m.title = title;
  m.x_label = p.col_key;
  m.y_label = p.row_key;
  m.x_labels = p.col_values;
  m.y_labels = p.row_values;
  m.lo = lo, m.hi = hi;
  m.scale_label = p.metric;
  std::size_t widest = 4;  // characters of the widest cell text or column label
  for (const std::string& v : p.col_values)
    widest = std::max(widest, std::min<std::size_t>(v.size(), 16));
  for (const auto& row : p.cells) {
    std::vector<double> values;
    std::vector<std::string> texts, fills;
    for (const PivotCell& c : row) {
      std::string t;
      if (c.runs == 0) {
        t = "";  // no run here
      } else if (p.text_metric) {
        const auto& [value, count] = c.counts.front();
        t = value.empty() ? "-" : value;
        if (count != c.runs) ((((t += ' ') += std::to_string(count)) += '/') += std::to_string(c.runs));
        fills.push_back(verdict_fill(value));
      } else {
        t = svg::number(c.mean);
        const std::size_t odd = c.nan + c.pos_inf + c.neg_inf;
        if (odd > 0 && c.finite > 0) ((t += " (+") += std::to_string(odd)) += " nan/inf)";
      }
      if (p.text_metric && c.runs == 0) fills.push_back("");
      widest = std::max(widest, t.size());
      values.push_back(p.text_metric ? (c.runs ? 0.0 : kNaN) : c.mean);
      texts.push_back(std::move(t));
    }
    m.values.push_back(std::move(values));
    m.texts.push_back(std::move(texts));
    if (p.text_metric) m.fills.push_back(std::move(fills));
  }
  if (p.text_metric)
    for (const char* v : {"healthy", "vanishing", "dying", "exploding", "diverged"})
      m.categories.push_back({v, verdict_fill(v)});
  m.cell_width = std::clamp(int(widest * 7 + 14), 48, 200);
  m.cell_height = 30;
  if (m.x_labels.size() == 1 && m.x_labels[0].empty()) m.x_labels[0] = "all runs";
  if (m.y_labels.size() == 1 && m.y_labels[0].empty()) m.y_labels[0] = "all runs";
  return svg::heatmap(m);
}

std::string activation_plot(const ActivationSpec& a, bool derivative) {
  constexpr double kLo = -19, kHi = 19;
  constexpr int kPoints = 381;  // step 0.1
  svg::LinePlot p;
  p.width = 300, p.height = 210;
  p.x_label = "x";
  p.x_min = kLo, p.x_max = kHi;
  std::vector<double> x(kPoints), y(kPoints);
  const double max_derivative = activation_max_derivative(a);
  for (int i = 0; i < kPoints; ++i) {
    x[i] = kLo + (kHi - kLo) * i / (kPoints - 1);
    y[i] = derivative ? activation_derivative(a, x[i]) : activation_value(a, x[i]);
  }
  const std::string name(activation_name(a.kind));
  p.title = name + (derivative ? ": derivative \xCF\x86\xE2\x80\xB2(x)" : ": \xCF\x86(x)");
  p.y_label = derivative ? "\xCF\x86\xE2\x80\xB2(x)" : "\xCF\x86(x)";
  p.series.push_back({name, x, y, activation_style(name), false, false, {}});
  if (derivative) {
    // The probes' "saturated" test: |phi'| below 1% of its largest value.
    p.y_min = std::min(0.0, *std::min_element(y.begin(), y.end()));
    for (int i = 0; i < kPoints;) {
      if (!(std::abs(y[i]) < 0.01 * max_derivative)) {
        ++i;
        continue;
      }
      int j = i;
      while (j + 1 < kPoints && std::abs(y[j + 1]) < 0.01 * max_derivative) ++j;
      const bool zero = std::all_of(y.begin() + i, y.begin() + j + 1, [](double v) { return v == 0; });
      p.bands.push_back({x[i], x[j], zero ? "\xCF\x86\xE2\x80\xB2 = 0" : "< 1% of max"});
      i = j + 1;
    }
  }
  return svg::line_plot(p);
}

}  // namespace gradflow
