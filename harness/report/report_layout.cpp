// Page layout decisions for the report; see report_layout.hpp.
#include "report/report_layout.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "analysis/summarize.hpp"
#include "base/csv_table.hpp"
#include "base/errors.hpp"

namespace gradflow {
namespace {

std::string joined(const std::vector<std::string>& names, const char* sep = ", ") {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : sep) + n;
  return out.empty() ? "(none)" : out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Swept values of one key across the finished runs.
struct KeyValues {
  const ReportData& data;
  std::size_t column(const std::string& key) const {
    return std::size_t(std::find(data.swept_keys.begin(), data.swept_keys.end(), key) -
                       data.swept_keys.begin());
  }
  const std::string& of(std::size_t run, const std::string& key) const {
    return data.runs[run].swept[column(key)];
  }
  std::size_t distinct(const std::string& key) const {
    std::set<std::string> seen;
    for (std::size_t r = 0; r < data.runs.size(); ++r) seen.insert(of(r, key));
    return seen.size();
  }
  // b's value is a function of a's: b is zipped with a (model.init beside model.activation),
  // so it adds no axis of its own.
  bool follows(const std::string& b, const std::string& a) const {
    std::map<std::string, std::string> ab;
    for (std::size_t r = 0; r < data.runs.size(); ++r)
      if (ab.emplace(of(r, a), of(r, b)).first->second != of(r, b)) return false;
    return true;
  }
};

// A line's label part for one key: a word stands for itself ("relu"), a bare number needs
// its key beside it ("clip_norm=0"), or the legend reads "0" and "1".
std::string line_value(const std::string& key, const std::string& value) {
  const bool bare =
      value.empty() || parse_number(value) || value == "true" || value == "false" || value == "-";
  return bare ? short_key(key) + "=" + value : value;
}

// The first of the usual metrics that differs between runs: when only lr or clipping is
// swept, the gradient ratio at init is the same in every cell and the heatmap says nothing.
std::string default_metric(const ReportData& data) {
  static const char* kCandidates[] = {"grad_ratio_log10_init", "units_died_fraction",
                                      "grad_ratio_log10_final", "max_dead_fraction_final",
                                      "final_probe_loss",      "final_loss"};
  const CsvTable& t = data.folder.runs;
  const std::vector<std::string> valid = metric_names(data.folder);
  for (const char* m : kCandidates) {
    const auto c = find_column(t, m);
    if (!c || !contains(valid, m)) continue;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& row : t.rows)
      if (const auto v = parse_number(row[*c]); v && std::isfinite(*v))
        lo = std::min(lo, *v), hi = std::max(hi, *v);
    if (lo < hi && hi - lo > 1e-9 * std::max(std::abs(lo), std::abs(hi))) return m;
  }
  // Nothing varies: the first candidate the table has (an older or foreign runs.csv may lack
  // the gradient ratio), else its first metric.
  for (const char* m : kCandidates)
    if (contains(valid, m)) return m;
  return valid.empty() ? "grad_ratio_log10_init" : valid.front();
}

void check_swept(const ReportData& data, const std::string& key, const char* option) {
  if (!key.empty() && !contains(data.swept_keys, key))
    throw InputError(option, "",
                     "\"" + key + "\" is not a swept key of " + data.folder.dir +
                         "; the swept keys are: " + joined(data.swept_keys));
}

}  // namespace

std::size_t activation_style(const std::string& name) {
  // Okabe & Ito styles (svg.hpp): 0 black, 1 orange, 2 blue, 3 green, 4 vermillion, 5 sky
  // blue, 6 purple, 7 grey.
  static const std::pair<const char*, std::size_t> kStyles[] = {
      {"relu", 2}, {"leaky_relu", 4}, {"sigmoid", 1}, {"tanh", 3},     {"elu", 6},
      {"selu", 5}, {"gelu", 0},       {"silu", 7},    {"softplus", 5}, {"identity", 0}};
  for (const auto& [n, style] : kStyles)
    if (name == n) return style;
  return 7;
}

std::string short_key(const std::string& key) {
  const std::size_t dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

ReportLayout plan_report(const ReportData& data, const ReportOptions& options) {
  ReportLayout layout;
  layout.metric = options.metric.empty() ? default_metric(data) : options.metric;
  if (!contains(metric_names(data.folder), layout.metric))
    throw InputError("--metric", "",
                     "unknown metric \"" + layout.metric + "\"; " + data.folder.runs.source +
                         " has: " + joined(metric_names(data.folder)));
  const bool sweep = data.folder.is_sweep;
  if (!sweep && !(options.rows.empty() && options.cols.empty() && options.panel.empty()))
    throw InputError(data.folder.dir, "",
                     "a single run, not a sweep: --rows, --cols and --panel need a sweep");
  check_swept(data, options.rows, "--rows");
  check_swept(data, options.cols, "--cols");
  check_swept(data, options.panel, "--panel");
  const std::vector<std::string> chosen = {options.rows, options.cols, options.panel};
  const char* names[] = {"--rows", "--cols", "--panel"};
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (!chosen[i].empty() && chosen[i] == chosen[j])
        throw InputError(names[i], "", "\"" + chosen[i] + "\" is already given to " + names[j]);
  for (const std::string& id : options.runs)
    if (std::none_of(data.runs.begin(), data.runs.end(),
                     [&](const RunData& r) { return r.id == id; }))
      throw InputError("--run", "", "no finished run " + id + " in " + data.folder.dir);

  // Axes worth drawing: swept keys with more than one value, not the seed, and not a key
  // zipped with an earlier one (its values follow that key's, so it adds no axis).
  const KeyValues values{data};
  std::vector<std::string> axes;
  std::map<std::string, std::vector<std::string>> zipped;
  for (const std::string& k : data.swept_keys) {
    if (k == "seed" || data.runs.empty() || values.distinct(k) < 2) continue;
    const auto leader = std::find_if(axes.begin(), axes.end(),
                                     [&](const std::string& a) { return values.follows(k, a); });
    if (leader != axes.end())
      zipped[*leader].push_back(k);
    else
      axes.push_back(k);
  }

  // Heatmaps: the user's keys, else the first two axes on rows and columns, and with a third
  // axis one panel per value of model.activation (or of the last axis).
  layout.rows = options.rows, layout.cols = options.cols, layout.panel = options.panel;
  std::vector<std::string> free;
  for (const std::string& a : axes)
    if (!contains(chosen, a)) free.push_back(a);
  const std::size_t wanted = (layout.rows.empty() ? 1 : 0) + (layout.cols.empty() ? 1 : 0);
  if (layout.panel.empty() && options.rows.empty() && options.cols.empty() && free.size() > 2) {
    layout.panel = contains(free, "model.activation") ? "model.activation" : free.back();
    free.erase(std::find(free.begin(), free.end(), layout.panel));
  }
  if (free.size() == 1 && wanted == 2) {
    layout.cols = free[0];  // one axis: a single row of cells reads like a table
    free.clear();
  } else {
    for (std::string* slot : {&layout.rows, &layout.cols})
      if (slot->empty() && !free.empty()) *slot = free.front(), free.erase(free.begin());
  }
  for (const std::string& k : data.swept_keys)
    if (k == "seed" || contains(free, k))  // neither rows, columns nor panel
      layout.averaged_keys.push_back(k);
  if (!layout.panel.empty()) {
    for (std::size_t r = 0; r < data.runs.size(); ++r)
      if (!contains(layout.panel_values, values.of(r, layout.panel)))
        layout.panel_values.push_back(values.of(r, layout.panel));
  } else {
    layout.panel_values = {""};
  }

  // Lines: one per value of the panel key, else of model.activation, else of the last axis;
  // the other axes group runs into plots; further seeds are left out.
  if (!data.sources.empty() && contains(axes, "folder"))
    layout.line_key = "folder";  // several folders overlaid: one line per folder
  else if (!layout.panel.empty())
    layout.line_key = layout.panel;
  else if (contains(axes, "model.activation"))
    layout.line_key = "model.activation";
  else if (!axes.empty())
    layout.line_key = axes.back();
  if (!layout.line_key.empty()) {
    layout.line_keys = {layout.line_key};
    for (const std::string& z : zipped[layout.line_key]) layout.line_keys.push_back(z);
  }
  std::vector<std::string> group_keys;
  for (const std::string& a : axes)
    if (a != layout.line_key) group_keys.push_back(a);

  std::map<std::vector<std::string>, std::size_t> group_of;
  std::set<std::vector<std::string>> dropped;
  std::set<std::pair<std::size_t, std::string>> drawn;
  for (std::size_t r = 0; r < data.runs.size(); ++r) {
    std::vector<std::string> signature;
    std::string title;
    for (const std::string& g : group_keys) {
      signature.push_back(values.of(r, g));
      title += (title.empty() ? "" : ", ") + short_key(g) + "=" + values.of(r, g);
    }
    std::string line = data.runs[r].label.empty() ? data.name : data.runs[r].label;
    if (!layout.line_key.empty()) {
      line.clear();
      for (const std::string& k : layout.line_keys)
        line += (line.empty() ? "" : " / ") + line_value(k, values.of(r, k));
    }
    if (dropped.count(signature)) continue;
    if (!group_of.count(signature) && layout.groups.size() >= options.max_groups) {
      dropped.insert(signature);
      ++layout.groups_dropped;
      continue;
    }
    const auto [it, fresh] = group_of.emplace(signature, layout.groups.size());
    if (fresh) layout.groups.push_back({title, {}, {}, {}, 0});
    if (!drawn.insert({it->second, line}).second) {
      ++layout.runs_not_drawn;
      continue;
    }
    LineGroup& group = layout.groups[it->second];
    if (group.runs.size() >= options.max_lines) {
      ++group.lines_dropped;
      continue;
    }
    group.runs.push_back(r);
    group.lines.push_back(line);
    group.styles.push_back(layout.line_key == "model.activation"
                               ? activation_style(values.of(r, layout.line_key))
                               : group.styles.size());
  }

  // Per-run sections: the runs asked for, else the drawn lines in order.
  if (!options.runs.empty()) {
    for (std::size_t r = 0; r < data.runs.size(); ++r)
      if (contains(options.runs, data.runs[r].id)) layout.detail_runs.push_back(r);
  } else {
    for (const LineGroup& g : layout.groups)
      for (std::size_t r : g.runs)
        if (layout.detail_runs.size() < options.max_runs) layout.detail_runs.push_back(r);
  }
  return layout;
}

}  // namespace gradflow
