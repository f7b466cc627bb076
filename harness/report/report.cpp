// HTML page assembly for the report; see report.hpp. Sections: what was run, sweep heatmaps,
// gradient flow per group of runs (norms per layer, loss, accuracy, theory caveats), unit
// fractions per layer and step, the activation functions, and the table of runs.
#include "report/report.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "analysis/summarize.hpp"
#include "base/errors.hpp"
#include "report/report_figures.hpp"
#include "report/report_time.hpp"
#include "report/svg.hpp"

namespace gradflow {
namespace {

using svg::escape;

constexpr std::size_t kMaxTableRows = 300;

constexpr const char* kStyle = R"(
body { font-family: "DejaVu Sans", "Helvetica", "Arial", sans-serif; font-size: 15px;
       line-height: 1.45; color: #111111; background: #ffffff; max-width: 1280px;
       margin: 16px auto; padding: 0 12px; }
h1 { font-size: 26px; margin: 0 0 6px 0; }
h2 { font-size: 21px; border-bottom: 2px solid #444444; padding-bottom: 2px; margin-top: 30px; }
h3 { font-size: 17px; margin: 18px 0 4px 0; }
figure { margin: 0; }
.figs { display: flex; flex-wrap: wrap; gap: 10px 14px; align-items: flex-start; }
svg { max-width: 100%; height: auto; }
.note { color: #333333; font-size: 14px; }
.caveats { border-left: 5px solid #555555; background: #f2f2f2; padding: 4px 12px; margin: 6px 0;
           font-size: 14px; }
.caveats ul { margin: 2px 0; padding-left: 20px; }
table { border-collapse: collapse; font-size: 13px; }
.table-scroll { overflow-x: auto; }  /* a table wider than the page scrolls by itself */
th, td { border: 1px solid #aaaaaa; padding: 2px 7px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 14px; white-space: nowrap; }
@media print {
  body { font-size: 11pt; max-width: none; margin: 0; }
  nav { display: none; }
  .table-scroll { overflow-x: visible; }
  .group, figure, .figs > svg { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
}
)";

std::string p(const std::string& html, const char* cls = nullptr) {
  return std::string("<p") + (cls ? std::string(" class=\"") + cls + "\"" : "") + ">" + html +
         "</p>\n";
}

std::string join_values(const std::vector<std::string>& v, std::size_t max = 8) {
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < max; ++i) out += (i ? ", " : "") + v[i];
  if (v.size() > max) out += ", … (" + std::to_string(v.size()) + " values)";
  return out;
}

std::vector<std::string> distinct_values(const ReportData& d, std::size_t key) {
  std::vector<std::string> out;
  for (const RunData& r : d.runs)
    if (std::find(out.begin(), out.end(), r.swept[key]) == out.end()) out.push_back(r.swept[key]);
  return out;
}

std::string header_section(const ReportData& d) {
  std::string out = "<h1>gradflow report: " + escape(d.name) + "</h1>\n";
  if (!d.sources.empty()) {
    out += p("Overlay of " + std::to_string(d.sources.size()) + " folders (<code>" +
             escape(d.folder.dir) +
             "</code>), one line per folder in the gradient-flow plots and "
             "a column <code>folder</code> in the run table: " +
             std::to_string(d.runs.size()) + " finished runs.");
    std::string list = "<ul>\n";
    for (const std::string& s : d.sources) {
      std::size_t n = 0;
      for (const RunData& r : d.runs) n += r.source == s;
      list += "<li><b>" + escape(s) + "</b>: " + std::to_string(n) + (n == 1 ? " run" : " runs") +
              "</li>\n";
    }
    out += list + "</ul>\n";
  } else if (d.folder.is_sweep) {
    std::string text = "Sweep folder <code>" + escape(d.folder.dir) + "</code>: " +
                       std::to_string(d.runs.size()) + " of " + std::to_string(d.planned_runs) +
                       " planned runs finished.";
    if (!d.swept_keys.empty()) text += " Swept:";
    out += p(text);
    if (!d.swept_keys.empty()) {
      out += "<ul>\n";
      for (std::size_t k = 0; k < d.swept_keys.size(); ++k)
        out += "<li><code>" + escape(d.swept_keys[k]) + "</code>: " +
               escape(join_values(distinct_values(d, k))) + "</li>\n";
      out += "</ul>\n";
    }
  } else if (!d.runs.empty()) {
    const RunData& r = d.runs.front();
    std::string text = "Single run folder <code>" + escape(d.folder.dir) + "</code>: ";
    if (!r.activation.empty()) text += escape(r.activation) + ", ";
    // A CNN: its conv layers first, then the dense layers (possibly none) on their features.
    const long convs = long(std::count(r.kinds.begin(), r.kinds.end(), "conv2d"));
    const long dense = long(dense_rows(r));
    if (convs > 0)
      text += std::to_string(convs) + (convs == 1 ? " conv2d layer, then " : " conv2d layers, then ") +
              std::to_string(dense) + (dense == 1 ? " hidden dense layer" : " hidden dense layers");
    else
      text += std::to_string(dense) + " hidden layers";
    if (r.width > 0 && dense_rows(r) > 0) text += " of width " + std::to_string(r.width);
    if (!plain_kinds(r)) {  // the other kinds of layers.csv rows, in first-seen order
      std::vector<std::string> kinds;
      for (const std::string& k : r.kinds)
        if (k != "dense" && k != "output" && std::find(kinds.begin(), kinds.end(), k) == kinds.end())
          kinds.push_back(k);
      text += " (" + std::to_string(r.kinds.size()) + " layers.csv rows, also of kinds " +
              escape(join_values(kinds)) + ")";
    }
    if (!r.step.empty()) text += ", " + svg::number(r.step.back(), 9) + " steps";
    text += ", verdict <b>" + escape(r.verdict.empty() ? "-" : r.verdict) + "</b>.";
    out += p(text);
  }
  out +=
      p("How to read it: norms are on a log scale against the layer index (layer 1 takes the "
        "input, the last is the linear output layer; for stacks with norm, PReLU or residual "
        "rows the index is the layers.csv row, and hovering a point or reading a map's row "
        "label names its kind, e.g. \"3 batch_norm\"). Solid lines with markers are "
        "measured; a dashed line in the same colour is the mean-field prediction at init "
        "(Poole et al. 2016; Schoenholz et al. 2017; He et al. 2015), drawn relative to the "
        "measured output layer. The prediction holds for wide layers at init; the boxes "
        "beside each group say where it does not. Verdicts and columns are defined in "
        "docs/theory.md and docs/output.md.",
        "note");
  return out;
}

// What the common runs.csv metrics mean, for the line above their heatmaps.
std::string metric_meaning(const std::string& metric) {
  static const std::pair<const char*, const char*> kMeanings[] = {
      {"grad_ratio_log10_init",
       "log10 of layer 1's weight-gradient norm over the output layer's, at init: 0 is even "
       "flow, -3 means the first layer gets a thousandth of the last one's gradient"},
      {"grad_ratio_log10_final", "the same at the last logged step"},
      {"delta_ratio_log10_init",
       "log10 of layer 1's back-propagated signal norm over the output layer's, at init"},
      {"delta_ratio_log10_final", "the same at the last logged step"},
      {"max_dead_fraction_init", "the largest share of dead units in a layer, at init"},
      {"max_dead_fraction_final", "the largest share of dead units in a layer, at the end"},
      {"units_died_fraction", "the largest share of a layer's units that died during training"},
      {"final_loss", "loss on the last training batch"},
      {"final_probe_loss", "loss on the held-out probe set at the end"},
      {"final_accuracy", "accuracy on the last training batch"},
      {"final_probe_accuracy", "accuracy on the held-out probe set at the end"},
      {"verdict", "the run's headline verdict (docs/theory.md, Verdicts)"}};
  for (const auto& [name, meaning] : kMeanings)
    if (metric == name) return meaning;
  return "";
}

std::string theory_metric(const ReportData& d, const std::string& metric) {
  std::string t;
  if (metric == "grad_ratio_log10_init") t = "theory_grad_ratio_log10";
  if (metric == "delta_ratio_log10_init") t = "theory_delta_ratio_log10";
  return !t.empty() && find_column(d.folder.runs, t) ? t : "";
}

Pivot panel_pivot(const ReportData& d, const ReportLayout& l, const std::string& value,
                  const std::string& metric) {
  ResultsFolder f = d.folder;
  if (!l.panel.empty()) {
    const std::size_t c = require_column(f.runs, l.panel);
    std::vector<std::vector<std::string>> rows;
    std::vector<std::size_t> lines;
    for (std::size_t r = 0; r < f.runs.rows.size(); ++r)
      if (f.runs.rows[r][c] == value) rows.push_back(f.runs.rows[r]), lines.push_back(f.runs.lines[r]);
    f.runs.rows = std::move(rows);
    f.runs.lines = std::move(lines);
  }
  return pivot_runs(f, {l.rows, l.cols, metric});
}

std::string heatmap_row(const ReportData& d, const ReportLayout& l, const std::string& metric,
                        const std::string& what, double lo, double hi) {
  std::string out = "<div class=\"figs\">\n";
  for (const std::string& v : l.panel_values) {
    const Pivot pv = panel_pivot(d, l, v, metric);
    const std::string title =
        what + (l.panel.empty() ? "" : ", " + short_key(l.panel) + " = " + v);
    out += pivot_heatmap(pv, title, lo, hi) + "\n";
  }
  return out + "</div>\n";
}

std::string sweep_section(const ReportData& d, const ReportLayout& l) {
  if (!d.folder.is_sweep || d.runs.empty()) return "";
  std::string out = "<section id=\"sweep\">\n<h2>The sweep at a glance</h2>\n";
  if (l.rows.empty() && l.cols.empty()) {
    return out + p("Only seeds vary (or nothing): there is no swept key to lay out.", "note") +
           "</section>\n";
  }
  const auto key = [](const std::string& k, const char* none) {
    return k.empty() ? std::string(none) : "<code>" + escape(k) + "</code>";
  };
  std::string text = "Rows: " + key(l.rows, "one") + ", columns: " + key(l.cols, "one");
  if (!l.panel.empty()) text += ", one panel per <code>" + escape(l.panel) + "</code>";
  text += ".";
  if (!l.averaged_keys.empty())
    text += " Each cell averages over " + escape(join_values(l.averaged_keys)) +
            " (text metrics show the most frequent value, and n/runs when runs disagree).";
  text += " Choose with <code>--rows</code>, <code>--cols</code>, <code>--panel</code>, "
          "<code>--metric</code>.";
  out += p(text, "note");
  const bool text_metric = l.metric == "verdict" || l.metric == "verdicts" || l.metric == "status";
  const std::string theory = theory_metric(d, l.metric);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  if (!text_metric) {
    for (const std::string& m : {l.metric, theory})
      if (!m.empty())
        for (const std::string& v : l.panel_values) pivot_range(panel_pivot(d, l, v, m), lo, hi);
    if (!(lo <= hi)) lo = 0, hi = 1;
    // Fractions on their whole range, so the bar reads 0 at one end and 1 at the other.
    if (l.metric.find("fraction") != std::string::npos && lo >= 0 && hi <= 1) lo = 0, hi = 1;
    if (lo == hi) lo -= 0.5, hi += 0.5;  // one value everywhere: mid colour, readable ticks
  }
  const auto heading = [&](const std::string& metric, const std::string& extra) {
    const std::string meaning = metric_meaning(metric);
    const std::string text =
        meaning.empty() ? extra : meaning + (extra.empty() ? "" : "; " + extra);
    return "<h3>" + escape(metric) + "</h3>\n" + (text.empty() ? "" : p(escape(text) + ".", "note"));
  };
  out += heading(l.metric, text_metric || theory.empty() ? "" : "measured");
  out += heatmap_row(d, l, l.metric, l.metric, lo, hi);
  if (!theory.empty()) {
    // A metric no run predicts (a CNN with pools; a conv grad_w ratio) gets a line, not
    // panels of empty cells.
    double theory_lo = std::numeric_limits<double>::infinity(), theory_hi = -theory_lo;
    for (const std::string& v : l.panel_values)
      pivot_range(panel_pivot(d, l, v, theory), theory_lo, theory_hi);
    if (theory_lo <= theory_hi) {
      out += heading(theory, "the mean-field prediction of the metric above, on the same colour "
                             "scale (where the caveats below apply, expect a gap)");
      out += heatmap_row(d, l, theory, theory, lo, hi);
    } else {
      out += heading(theory, "") +
             p("No run of this sweep has a mean-field prediction of this metric (each run's "
               "caveats say why).",
               "note");
    }
  }
  if (!text_metric && find_column(d.folder.runs, "verdict")) {
    out += heading("verdict", "");
    out += heatmap_row(d, l, "verdict", "verdict", 0, 1);
  }
  return out + "</section>\n";
}

std::string caveats_box(const ReportData& d, const LineGroup& g) {
  bool any_theory = false, any_caveats_field = false;
  for (std::size_t r : g.runs) {
    any_theory = any_theory || !d.runs[r].theory_grad_w_log10.empty() ||
                 !d.runs[r].theory_delta_log10.empty();
    any_caveats_field = any_caveats_field || d.runs[r].has_caveats;
  }
  std::string out = "<div class=\"caveats\"><b>Where the prediction holds.</b> ";
  if (!any_theory && !any_caveats_field)
    return out + "This folder has no theory columns (written by an older gradflow), so no "
                 "prediction is drawn. After training it would not apply anyway.</div>\n";
  out +=
      "At init only (the end-of-training plots have none), for wide layers. What these "
      "runs do not meet (theory_caveats in summary.json), each said once with the lines it "
      "concerns:<ul>\n";
  // Each distinct caveat once, with its lines: runs of a group often share them all.
  std::vector<std::pair<std::string, std::vector<std::string>>> caveats;
  std::vector<std::string> clean, unrecorded;
  for (std::size_t i = 0; i < g.runs.size(); ++i) {
    const RunData& r = d.runs[g.runs[i]];
    if (!r.has_caveats) unrecorded.push_back(g.lines[i]);
    if (r.has_caveats && r.caveats.empty()) clean.push_back(g.lines[i]);
    for (const std::string& c : r.caveats) {
      auto it =
          std::find_if(caveats.begin(), caveats.end(), [&](const auto& e) { return e.first == c; });
      if (it == caveats.end()) it = caveats.insert(caveats.end(), {c, {}});
      it->second.push_back(g.lines[i]);
    }
  }
  const auto which = [&](const std::vector<std::string>& lines) {
    return lines.size() == g.runs.size() && g.runs.size() > 1 ? std::string("all lines")
                                                              : join_values(lines, 12);
  };
  for (const auto& [c, lines] : caveats)
    out +=
        "<li>" + escape(c) + " <span class=\"note\">(" + escape(which(lines)) + ")</span></li>\n";
  if (!clean.empty())
    out += "<li>none: the prediction applies <span class=\"note\">(" + escape(which(clean)) +
           ")</span></li>\n";
  if (!unrecorded.empty())
    out += "<li>no caveats recorded <span class=\"note\">(" + escape(which(unrecorded)) +
           ")</span></li>\n";
  return out + "</ul></div>\n";
}

std::string flow_section(const ReportData& d, const ReportLayout& l) {
  std::string out = "<section id=\"flow\">\n<h2>Gradient flow, loss and accuracy</h2>\n";
  std::string text;
  if (!l.line_key.empty())
    text = "One line per value of <code>" + escape(join_values(l.line_keys)) +
           "</code>; one group of plots per combination of the other swept values.";
  if (l.runs_not_drawn > 0)
    text += " Further seeds of the same settings are left out (" +
            std::to_string(l.runs_not_drawn) + " runs): each line is the first seed.";
  if (l.groups_dropped > 0)
    text += " Only the first " + std::to_string(l.groups.size()) + " groups are shown (" +
            std::to_string(l.groups_dropped) + " more); choose another line key with "
            "<code>--panel</code>.";
  if (!text.empty()) out += p(text, "note");
  for (const LineGroup& g : l.groups) {
    out += "<div class=\"group\">\n";
    if (!g.title.empty()) out += "<h3>" + escape(g.title) + "</h3>\n";
    bool theory = false;
    for (std::size_t r : g.runs)
      theory = theory || !d.runs[r].theory_grad_w_log10.empty() || !d.runs[r].theory_delta_log10.empty();
    out += group_legend(g, theory, 1240) + "\n";
    if (g.lines_dropped > 0)
      out += p("Only the first " + std::to_string(g.runs.size()) + " lines are drawn (" +
                   std::to_string(g.lines_dropped) + " more values).",
               "note");
    std::string diverged;
    for (std::size_t i = 0; i < g.runs.size(); ++i)
      if (const std::string n = divergence_note(d.runs[g.runs[i]]); !n.empty())
        diverged += (diverged.empty() ? "" : "; ") + g.lines[i] + ": " + n;
    if (!diverged.empty())
      out += p("<b>Diverged:</b> " + escape(diverged) +
                   ". Curves stop at the last finite "
                   "step, marked \"diverged\"; end-of-training plots show that step.",
               "note");
    out += "<div class=\"figs\">\n";
    out += norm_plot(d, g, NormKind::grad_w, false) + "\n";
    out += norm_plot(d, g, NormKind::grad_w, true) + "\n";
    out += loss_plot(d, g) + "\n";
    out += norm_plot(d, g, NormKind::delta, false) + "\n";
    out += norm_plot(d, g, NormKind::delta, true) + "\n";
    out += accuracy_plot(d, g) + "\n";
    out += grad_norm_plot(d, g) + "\n";
    out += "</div>\n" + caveats_box(d, g) + "</div>\n";
  }
  return out + "</section>\n";
}

std::string units_section(const ReportData& d, const ReportLayout& l) {
  std::string out =
      "<section id=\"units\">\n<h2>Each run over time: gradient norms, "
      "updates and units</h2>\n";
  out +=
      p("Per layer (rows, layer 1 at the bottom) and logged step (columns). The norm maps "
        "share one log colour scale per map: darker is smaller, black is exactly 0 (no "
        "gradient). The unit maps are on the probe set, darker is more dead or more "
        "saturated; each activation shows only the measures that mean something for it. "
        "Dead: &#966;&#8242;(z) = 0 on every probe input (ReLU units that no longer learn). "
        "Inactive: z &#8804; 0 on every input (for leaky ReLU, the units that would be dead "
        "as ReLU). Saturated: share of (unit, input) pairs with |&#966;&#8242;| below 1% of "
        "its maximum (sigmoid and tanh tails). In stacks with norm, PReLU or residual layers "
        "the rows are layers.csv rows, labelled with their kind: the gradient map has the rows "
        "with parameters (for norms &#947;, for PReLU its slopes, for ReZero &#945;), the "
        "&#948; map every row, the unit maps the rows whose output an activation reads. PReLU "
        "slopes and residual gates get a figure of their own.",
        "note");
  if (d.folder.is_sweep && d.runs.size() > l.detail_runs.size())
    out += p("Showing " + std::to_string(l.detail_runs.size()) + " of " +
                 std::to_string(d.runs.size()) + " runs; pick others with <code>--run ID</code>.",
             "note");
  for (std::size_t r : l.detail_runs) {
    const RunData& run = d.runs[r];
    const std::string name = run.label.empty() ? d.name : run.label;
    std::string about = d.folder.is_sweep && run.id != name ? run.id + ", " : "";
    about += "verdict " + (run.verdict.empty() ? std::string("-") : run.verdict);
    out += "<div class=\"group\">\n<h3>" + escape(name) + " <span class=\"note\">(" +
           escape(about) + ")</span></h3>\n";
    if (const std::string n = divergence_note(run); !n.empty())
      out += p("<b>Diverged:</b> " + escape(n) + ".", "note");
    const UnitMeasures measures = unit_measures(run);
    if (!measures.note.empty()) out += p(escape(measures.note), "note");
    out += "<div class=\"figs\">\n";
    out += norm_step_heatmap(run, NormKind::grad_w) + "\n";
    out += norm_step_heatmap(run, NormKind::delta) + "\n";
    out += update_ratio_plot(run) + "\n";
    if (const std::string f = slope_plot(run); !f.empty()) out += f + "\n";
    if (const std::string f = gate_plot(run); !f.empty()) out += f + "\n";
    for (FractionKind k : measures.kinds) out += fraction_heatmap(run, k) + "\n";
    out += "</div>\n</div>\n";
  }
  return out + "</section>\n";
}

std::string activations_section(const ReportData& d) {
  std::vector<ActivationSpec> shown;
  std::set<std::pair<int, double>> seen;
  const auto add = [&](const ActivationSpec& a) {
    if (seen.insert({int(a.kind), a.param}).second) shown.push_back(a);
  };
  for (const RunData& r : d.runs)
    if (r.activation_known) add(r.activation_spec);
  const std::size_t used = shown.size();
  for (const ActivationSpec& a : {ActivationSpec{Activation::relu, 0},
                                  ActivationSpec{Activation::leaky_relu, 0.01},
                                  ActivationSpec{Activation::sigmoid, 0},
                                  ActivationSpec{Activation::tanh, 0}})
    if (std::none_of(shown.begin(), shown.end(), [&](const ActivationSpec& s) { return s.kind == a.kind; }))
      add(a);
  std::string out = "<section id=\"activations\">\n<h2>The activation functions</h2>\n";
  out += p("&#966;(x) and &#966;&#8242;(x) on [&#8722;19, 19]: " + std::to_string(used) +
               " used by these runs first, then common ones for comparison. Shaded: where "
               "|&#966;&#8242;| is below 1% of its maximum (the \"saturated\" test) or zero (the "
               "\"dead\" test); back-propagated signals are multiplied by &#966;&#8242; at every "
               "layer, so a derivative that is small or zero over much of the range makes them "
               "vanish.",
           "note");
  out += "<div class=\"figs\">\n";
  for (std::size_t i = 0; i < shown.size(); ++i) {
    std::string caption = std::string(activation_name(shown[i].kind));
    if (shown[i].kind == Activation::leaky_relu || shown[i].kind == Activation::elu)
      caption += " (" + std::string(shown[i].kind == Activation::elu ? "alpha" : "slope") + " " +
                 svg::number(shown[i].param) + ")";
    caption += i < used ? ", used here" : ", for comparison";
    out += "<figure><div>" + activation_plot(shown[i], false) + "</div><div>" +
           activation_plot(shown[i], true) + "</div><figcaption class=\"note\">" +
           escape(caption) + "</figcaption></figure>\n";
  }
  return out + "</div>\n</section>\n";
}

std::string runs_section(const ReportData& d, const ReportLayout& l) {
  RunOverview view = run_overview(d.folder, l.metric);
  if (!d.sources.empty()) {  // overlaid folders: which folder each run came from
    const auto id = std::find(view.columns.begin(), view.columns.end(), "run_id");
    const std::size_t at =
        id == view.columns.end() ? 0 : std::size_t(id - view.columns.begin()) + 1;
    for (std::vector<std::string>& row : view.rows) {
      const auto run = std::find_if(d.runs.begin(), d.runs.end(), [&](const RunData& r) {
        return at > 0 && r.id == row[at - 1];
      });
      row.insert(row.begin() + long(at), run == d.runs.end() ? "" : run->source);
    }
    view.columns.insert(view.columns.begin() + long(at), "folder");
    view.numeric.insert(view.numeric.begin() + long(at), false);
  }
  std::string out = "<section id=\"runs\">\n<h2>Runs</h2>\n";
  if (view.rows.size() > kMaxTableRows)
    out += p("The first " + std::to_string(kMaxTableRows) + " of " +
                 std::to_string(view.rows.size()) + " runs; runs.csv has them all.",
             "note");
  out += "<div class=\"table-scroll\"><table>\n<tr>";
  for (const std::string& c : view.columns) out += "<th>" + escape(c) + "</th>";
  out += "</tr>\n";
  for (std::size_t r = 0; r < view.rows.size() && r < kMaxTableRows; ++r) {
    out += "<tr>";
    for (std::size_t c = 0; c < view.columns.size(); ++c) {
      std::string cell = view.rows[r][c];
      // A single run's id is "run" in its own table; its name says more.
      if (!d.folder.is_sweep && view.columns[c] == "run_id") cell = d.name;
      if (view.numeric[c])
        if (const auto v = parse_number(cell); v && !cell.empty()) cell = svg::number(*v, 4);
      out += std::string(view.numeric[c] ? "<td class=\"num\">" : "<td>") +
             escape(cell.empty() ? "-" : cell) + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</table></div>\n</section>\n";
}

}  // namespace

std::string render_report(const ReportData& d, const ReportLayout& l) {
  std::string out =
      "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
      "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width\"/>\n"
      "<title>gradflow report: " +
      escape(d.name) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  out += header_section(d);
  out += "<nav class=\"note\">Sections: ";
  if (d.folder.is_sweep) out += "<a href=\"#sweep\">sweep</a> · ";
  out += "<a href=\"#flow\">gradient flow</a> · <a href=\"#units\">units</a> · "
         "<a href=\"#activations\">activations</a> · <a href=\"#runs\">runs</a></nav>\n";
  if (d.runs.empty()) {
    out += p("No finished runs in this folder yet.");
  } else {
    out += sweep_section(d, l);
    out += flow_section(d, l);
    out += units_section(d, l);
  }
  out += activations_section(d);
  if (!d.runs.empty()) out += runs_section(d, l);
  return out + "</body>\n</html>\n";
}

std::string build_report(const std::vector<std::string>& dirs, const ReportOptions& options) {
  GF_ASSERT(!dirs.empty());
  if (dirs.size() == 1) {
    const ReportData data = load_report_data(dirs.front(), options.verdict_overrides);
    return render_report(data, plan_report(data, options));
  }
  std::vector<ReportData> folders;
  for (const std::string& dir : dirs)
    folders.push_back(load_report_data(dir, options.verdict_overrides));
  const ReportData data = merge_report_data(dirs, std::move(folders));
  return render_report(data, plan_report(data, options));
}

}  // namespace gradflow
