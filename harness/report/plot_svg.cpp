// SVG figures; see plot_svg.hpp. Text is 12-15 px in DejaVu/sans-serif so a printed page
// stays legible; the plotting area is a nested <svg>, which clips lines to it without ids.
#include "report/plot_svg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "report/svg.hpp"

namespace gradflow::svg {
namespace {

constexpr double kCharWidth = 7.2;  // average advance of a 13 px sans-serif character

double text_width(const std::string& s, double char_width = kCharWidth) {
  std::size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;  // count UTF-8 code points
  return double(chars) * char_width;
}

// Long labels (swept objects) cut to `max_chars` code points with an ellipsis.
std::string shorten(const std::string& s, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (++chars > max_chars) return s.substr(0, i) + "\xE2\x80\xA6";
  }
  return s;
}

// Labels cut to `max_chars` so that they still tell the rows apart: when some are too long,
// the words every label starts with go first ("conv8 relu maxpool4 7x(…)" and "… 15x(…)"
// become "…7x(…)" and "…15x(…)"), then each is shortened from the end.
std::vector<std::string> distinct_shorten(const std::vector<std::string>& labels,
                                          std::size_t max_chars) {
  const bool too_long = std::any_of(labels.begin(), labels.end(), [&](const std::string& l) {
    return shorten(l, max_chars) != l;
  });
  if (!too_long || labels.size() < 2) {
    std::vector<std::string> out;
    for (const std::string& l : labels) out.push_back(shorten(l, max_chars));
    return out;
  }
  // The longest prefix of whole words (ending at a space) that every label shares.
  std::size_t common = labels[0].size();
  for (const std::string& l : labels) {
    std::size_t n = 0;
    while (n < common && n < l.size() && l[n] == labels[0][n]) ++n;
    common = n;
  }
  const std::size_t space = common == 0 ? std::string::npos : labels[0].rfind(' ', common - 1);
  const std::size_t cut = space == std::string::npos ? 0 : space + 1;
  std::vector<std::string> out;
  for (const std::string& l : labels)
    out.push_back(cut ? shorten("\xE2\x80\xA6" + l.substr(cut), max_chars) : shorten(l, max_chars));
  return out;
}

// A label's text with the full label as its hover title when it was cut.
std::string label_text(const std::string& full, const std::string& shown) {
  return (shown == full ? "" : "<title>" + escape(full) + "</title>") + escape(shown);
}

std::string open_svg(double width, double height, const std::string& title) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + coord(width) + "\" height=\"" +
         coord(height) + "\" viewBox=\"0 0 " + coord(width) + " " + coord(height) +
         "\" role=\"img\" aria-label=\"" + escape(title) + "\"><rect width=\"" + coord(width) +
         "\" height=\"" + coord(height) + "\" fill=\"#ffffff\"/>";
}

std::string text(double x, double y, const std::string& content, const std::string& attrs = "") {
  return "<text x=\"" + coord(x) + "\" y=\"" + coord(y) + "\"" + (attrs.empty() ? "" : " ") +
         attrs + ">" + content + "</text>";
}

// The attribute that squeezes a text wider than `room` into it (textLength), so that a long
// label is narrowed rather than cut off at the figure's edge; empty when it fits.
std::string squeezed_to(const std::string& s, double char_width, double room) {
  if (text_width(s, char_width) <= room) return "";
  return " textLength=\"" + coord(room) + "\" lengthAdjust=\"spacingAndGlyphs\"";
}

// A figure's bold title, squeezed to the width when it would not fit.
std::string title_text(const std::string& title, double width) {
  return text(8, 18, escape(title),
              "font-size=\"15\" font-weight=\"bold\"" + squeezed_to(title, 9.4, width - 16));
}

// A centred axis label along [lo, hi] (the plot's extent, in its own coordinates) inside a
// figure whose edges are at [edge_lo, edge_hi]: centred on the plot when it fits there, moved
// in from an edge when it would cross it, squeezed when it is wider than the figure.
struct AxisLabel {
  double centre;
  std::string attrs;
};
AxisLabel axis_label(const std::string& label, double lo, double hi, double edge_lo,
                     double edge_hi) {
  constexpr double kChar14 = 7.8, kMargin = 8;  // 14 px text
  const double room = edge_hi - edge_lo - 2 * kMargin;
  const double half = 0.5 * std::min(text_width(label, kChar14), room);
  const double centre = std::clamp(0.5 * (lo + hi), edge_lo + kMargin + half, edge_hi - kMargin - half);
  return {centre, "text-anchor=\"middle\" font-size=\"14\"" + squeezed_to(label, kChar14, room)};
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) { lo = std::min(lo, v), hi = std::max(hi, v); }
  bool empty() const { return !(lo <= hi); }
};

std::string series_path(const Series& s, const Scale& x, const Scale& y) {
  std::string d;
  bool pen_down = false;
  for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
    if (!x.usable(s.x[i]) || !y.usable(s.y[i])) {
      pen_down = false;
      continue;
    }
    // Appended piecewise: `"L" + std::string` trips a GCC 12 -Wrestrict false positive.
    ((((d += pen_down ? 'L' : 'M') += coord(x(s.x[i]))) += ' ') += coord(y(s.y[i])));
    pen_down = true;
  }
  if (d.empty()) return "";
  return "<path class=\"" + std::string(s.dashed ? "prediction" : "line") + "\" d=\"" + d +
         "\" fill=\"none\" stroke=\"" + line_color(s.style) +
         "\" stroke-width=\"" + (s.dashed ? "2" : "2.2") + "\"" +
         (s.dashed ? " stroke-dasharray=\"7 4\"" : "") + " stroke-linejoin=\"round\"/>";
}

// About a dozen markers per line, staggered by style so overlapping lines still show theirs.
std::string series_markers(const Series& s, const Scale& x, const Scale& y, double w, double h) {
  if (!s.markers) return "";
  const auto inside = [&](double px, double py) {
    return px >= -0.5 && px <= w + 0.5 && py >= -0.5 && py <= h + 0.5;
  };
  const std::size_t n = std::min(s.x.size(), s.y.size());
  const std::size_t every = std::max<std::size_t>(1, (n + 11) / 12);
  std::string out;
  for (std::size_t i = (s.style * 3) % every; i < n; i += every)
    if (x.usable(s.x[i]) && y.usable(s.y[i]) && inside(x(s.x[i]), y(s.y[i])))
      out += marker(s.style, x(s.x[i]), y(s.y[i]));
  return out;
}

// Invisible hover targets carrying each point's title (browsers show it as a tooltip).
std::string series_titles(const Series& s, const Scale& x, const Scale& y, double w, double h) {
  std::string out;
  const std::size_t n = std::min({s.x.size(), s.y.size(), s.point_titles.size()});
  for (std::size_t i = 0; i < n; ++i) {
    if (!x.usable(s.x[i]) || !y.usable(s.y[i])) continue;
    const double px = x(s.x[i]), py = y(s.y[i]);
    if (px < -0.5 || px > w + 0.5 || py < -0.5 || py > h + 0.5) continue;
    out += "<circle class=\"hover\" cx=\"" + coord(px) + "\" cy=\"" + coord(py) +
           "\" r=\"6\" fill=\"#000000\" fill-opacity=\"0\"><title>" +
           escape(s.point_titles[i]) + "</title></circle>";
  }
  return out;
}

}  // namespace

std::string line_plot(const LinePlot& p) {
  // Up to two lines of notes under the title: the plot's own, and the zero line's.
  const bool zero_line = p.y_log && !p.zero_note.empty() &&
                         std::any_of(p.series.begin(), p.series.end(), [](const Series& s) {
                           return std::find(s.y.begin(), s.y.end(), 0.0) != s.y.end();
                         });
  const int notes = int(!p.note.empty()) + int(zero_line);
  const double left = 72, right = 14, top = 30 + 16 * notes, bottom = 48;
  const double w = p.width - left - right, h = p.height - top - bottom;

  Range xr, yr;
  bool zeros = false;  // exact zeros to draw on the "0" line of a log axis
  for (const Series& s : p.series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (p.y_log && !p.zero_note.empty() && s.y[i] == 0 && std::isfinite(s.x[i]))
        zeros = true, xr.add(s.x[i]);
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (p.y_log && s.y[i] <= 0)) continue;
      xr.add(s.x[i]);
      yr.add(p.y_log ? std::log10(s.y[i]) : s.y[i]);
    }
  for (const auto& [gy, label] : p.guides)
    if (std::isfinite(gy) && (!p.y_log || gy > 0)) yr.add(p.y_log ? std::log10(gy) : gy);
  if (zeros && yr.empty()) yr = {-1, 0};  // only zeros: one decade above the "0" line
  const bool no_data = xr.empty();
  if (no_data) xr = {0, 1}, yr = {0, 1};
  if (p.x_min) xr.lo = *p.x_min;
  if (p.x_max) xr.hi = *p.x_max;
  if (p.y_min) yr.lo = p.y_log ? std::log10(*p.y_min) : *p.y_min;
  if (p.y_max) yr.hi = p.y_log ? std::log10(*p.y_max) : *p.y_max;
  if (xr.hi == xr.lo) xr.lo -= 0.5, xr.hi += 0.5;

  std::vector<double> yticks;
  std::vector<std::string> ylabels;
  if (p.y_log) {
    // Whole decades, at least one: the ticks then always include both ends. Data within
    // two decades get ends at 1, 2 or 5 x 10^k instead, so a flat loss is not squeezed into
    // a sliver of the axis.
    const double data_lo = yr.lo, data_hi = yr.hi;
    yr.lo = std::floor(yr.lo + 1e-9), yr.hi = std::ceil(yr.hi - 1e-9);
    if (yr.hi <= yr.lo) yr.lo -= 1, yr.hi += 1;
    const bool few = yr.hi - yr.lo <= 2;
    if (few && !p.y_min && !p.y_max && data_lo <= data_hi) {
      for (double m : {5.0, 2.0})
        if (yr.lo + std::log10(m) <= data_lo + 1e-9) {
          yr.lo += std::log10(m);
          break;
        }
      for (double m : {0.2, 0.5})
        if (yr.hi + std::log10(m) >= data_hi - 1e-9) {
          yr.hi += std::log10(m);
          break;
        }
      if (yr.hi - yr.lo < std::log10(2.0) - 1e-9) yr.hi = yr.lo + std::log10(2.0);
    }
    for (int e : log_ticks(yr.lo, yr.hi)) yticks.push_back(e), ylabels.push_back(decade_label(e));
    if (few)  // few decades: label 2x and 5x too, so values can be read off
      for (int e = int(std::floor(yr.lo)); e < int(std::ceil(yr.hi)); ++e)
        for (double m : {2.0, 5.0})
          if (const double t = e + std::log10(m); t >= yr.lo - 1e-9 && t <= yr.hi + 1e-9)
            yticks.push_back(t), ylabels.push_back(number(m * std::pow(10.0, e)));
    if (zeros) {  // one more decade below the data, whose bottom line stands for 0
      yr.lo -= 1;
      yticks.push_back(yr.lo), ylabels.push_back("0");
    }
  } else {
    if (yr.hi == yr.lo) yr.lo -= 0.5, yr.hi += 0.5;
    const std::vector<double> t = linear_ticks(yr.lo, yr.hi);
    const double step = t.size() > 1 ? t[1] - t[0] : 1;
    if (!p.y_min) yr.lo = std::min(yr.lo, std::floor(yr.lo / step) * step);
    if (!p.y_max) yr.hi = std::max(yr.hi, std::ceil(yr.hi / step) * step);
    yticks = linear_ticks(yr.lo, yr.hi);
    for (double v : yticks) ylabels.push_back(tick_label(v, step));
  }
  const Scale x{xr.lo, xr.hi, 0, w, false};
  const Scale y{yr.lo, yr.hi, h, 0, p.y_log};
  const Scale ylin{yr.lo, yr.hi, h, 0, false};  // for tick positions (exponents on log axes)

  // Zeros drawn on the bottom line: the series with 0 replaced by that line's value.
  std::vector<Series> series = p.series;
  if (zeros)
    for (Series& s : series)
      for (double& v : s.y)
        if (v == 0) v = std::pow(10.0, yr.lo);
  std::vector<std::string> note_lines;
  if (!p.note.empty()) note_lines.push_back(p.note);
  if (zero_line) note_lines.push_back(p.zero_note);

  std::string out = open_svg(p.width, p.height, p.title);
  out += title_text(p.title, p.width);
  for (std::size_t i = 0; i < note_lines.size(); ++i) {
    out += text(8, 36 + 16 * double(i), escape(note_lines[i]),
                "font-size=\"12\" fill=\"#333333\"" + squeezed_to(note_lines[i], 6.4, p.width - 16));
  }
  out += "<g transform=\"translate(" + coord(left) + "," + coord(top) + ")\" font-size=\"13\">";
  // Bands, grid and ticks.
  for (const Band& b : p.bands) {
    const double x0 = std::clamp(x(b.x0), 0.0, w), x1 = std::clamp(x(b.x1), 0.0, w);
    if (x1 <= x0) continue;
    out += "<rect x=\"" + coord(x0) + "\" y=\"0\" width=\"" + coord(x1 - x0) + "\" height=\"" +
           coord(h) + "\" fill=\"#000000\" fill-opacity=\"0.09\"/>";
    out += text(0.5 * (x0 + x1), 14, escape(b.label),
                "text-anchor=\"middle\" font-size=\"11\" fill=\"#333333\"");
  }
  for (std::size_t i = 0; i < yticks.size(); ++i) {
    const double py = ylin(yticks[i]);
    out += "<line x1=\"0\" x2=\"" + coord(w) + "\" y1=\"" + coord(py) + "\" y2=\"" + coord(py) +
           "\" stroke=\"#d9d9d9\"/>";
    out += text(-6, py + 4.5, ylabels[i], "text-anchor=\"end\"");
  }
  std::vector<double> xticks = linear_ticks(xr.lo, xr.hi, std::max(4, int(w / 40)));
  if (p.integer_x) {
    const double step = xticks.size() > 1 ? std::max(1.0, xticks[1] - xticks[0]) : 1.0;
    xticks.clear();
    for (double v = std::ceil(xr.lo / step) * step; v <= xr.hi + 1e-9; v += step)
      xticks.push_back(v);
  }
  const double xstep = xticks.size() > 1 ? xticks[1] - xticks[0] : 1;
  for (double v : xticks) {
    const double px = x(v);
    out += "<line x1=\"" + coord(px) + "\" x2=\"" + coord(px) + "\" y1=\"" + coord(h) +
           "\" y2=\"" + coord(h + 5) + "\" stroke=\"#444444\"/>";
    out += text(px, h + 19, escape(tick_label(v, xstep)), "text-anchor=\"middle\"");
  }
  const AxisLabel xl = axis_label(p.x_label, 0, w, -left, w + right);
  out += text(xl.centre, h + 40, escape(p.x_label), xl.attrs);
  // The y label runs bottom to top: along -y, from the plot's bottom (-h) to its top (0).
  const AxisLabel yl = axis_label(p.y_label, -h, 0, -h - bottom, top);
  out += text(0, 0, escape(p.y_label),
              "transform=\"translate(-56," + coord(-yl.centre) + ") rotate(-90)\" " + yl.attrs);
  // Data, clipped by the nested <svg>.
  out += "<svg x=\"0\" y=\"0\" width=\"" + coord(w) + "\" height=\"" + coord(h) +
         "\" overflow=\"hidden\">";
  for (const auto& [gy, label] : p.guides) {
    if (!y.usable(gy)) continue;
    const double py = y(gy);
    out += "<line class=\"guide\" x1=\"0\" x2=\"" + coord(w) + "\" y1=\"" + coord(py) + "\" y2=\"" +
           coord(py) +
           "\" stroke=\"#555555\" stroke-width=\"1.5\" "
           "stroke-dasharray=\"3 3\"/>";
    out += text(4, py - 4, escape(label), "font-size=\"11\" fill=\"#333333\"");
  }
  for (const Series& s : series) out += series_path(s, x, y);
  for (const Mark& m : p.marks) {
    if (!x.usable(m.x)) continue;
    const double px = x(m.x);
    out += "<line class=\"mark\" x1=\"" + coord(px) + "\" x2=\"" + coord(px) + "\" y1=\"0\" y2=\"" +
           coord(h) + "\" stroke=\"" + line_color(m.style) +
           "\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>";
    // Left of the line, or right of it when there is no room on the left.
    const bool left_room = px > text_width(m.label, 6.2) + 4;
    out += text(left_room ? px - 3 : px + 3, 12, escape(m.label),
                std::string(left_room ? "text-anchor=\"end\" " : "") + "font-size=\"11\" fill=\"" +
                    line_color(m.style) + "\"");
  }
  out += "</svg>";
  // Markers outside the clip, so points on the frame stay whole.
  for (const Series& s : series) out += series_markers(s, x, y, w, h);
  for (const Series& s : series) out += series_titles(s, x, y, w, h);
  if (no_data)
    out += text(0.5 * w, 0.5 * h, "no finite values to plot",
                "text-anchor=\"middle\" fill=\"#555555\"");
  out += "<rect width=\"" + coord(w) + "\" height=\"" + coord(h) +
         "\" fill=\"none\" stroke=\"#444444\"/></g></svg>";
  return out;
}

std::string legend(const std::vector<LegendEntry>& entries, int width) {
  constexpr double kRow = 22, kSample = 34;
  std::vector<std::pair<double, double>> at;  // position of each entry
  double x = 4, y = 0;
  for (const LegendEntry& e : entries) {
    const double need = kSample + 8 + text_width(e.label) + 18;
    if (x > 4 && x + need > width) x = 4, y += kRow;
    at.emplace_back(x, y);
    x += need;
  }
  const double height = entries.empty() ? 0 : y + kRow + 4;
  std::string out = open_svg(width, height, "legend");
  out += "<g font-size=\"13\">";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    const double ex = at[i].first, ey = at[i].second + 13;
    out += "<line x1=\"" + coord(ex) + "\" x2=\"" + coord(ex + kSample) + "\" y1=\"" + coord(ey) +
           "\" y2=\"" + coord(ey) + "\" stroke=\"" + line_color(e.style) +
           "\" stroke-width=\"2.2\"" + (e.dashed ? " stroke-dasharray=\"7 4\"" : "") + "/>";
    if (e.markers) out += marker(e.style, ex + 0.5 * kSample, ey);
    out += text(ex + kSample + 6, ey + 4.5, escape(e.label));
  }
  return out + "</g></svg>";
}

std::string heatmap_fill(const Heatmap& m, double v) {
  if (m.log10_values && v == -std::numeric_limits<double>::infinity()) return "#000000";
  if (!std::isfinite(v)) return "#ffffff";
  double t = m.hi > m.lo ? (v - m.lo) / (m.hi - m.lo) : 0.5;
  if (m.reversed) t = 1 - t;
  return hex(viridis(t));
}

namespace {

// The width of a label written as SVG markup (tags such as an exponent's <tspan> left out,
// an entity one character).
double markup_width(const std::string& markup, double char_width) {
  std::string plain;
  bool in_tag = false;
  for (std::size_t i = 0; i < markup.size(); ++i) {
    const char c = markup[i];
    if (c == '<') in_tag = true;
    if (!in_tag) {
      if (c == '&') i = std::min(markup.find(';', i), markup.size() - 1);
      plain += c;
    }
    if (c == '>') in_tag = false;
  }
  return text_width(plain, char_width);
}

// A colour bar's labels (markup), at their baselines: both ends with their real values
// (class bar-end), then inner ticks that keep clear of them. Empty for a categorical key.
struct BarLabel {
  double y;
  std::string text;
  bool end;
};
std::vector<BarLabel> colour_bar_labels(const Heatmap& m, double key_h) {
  if (!m.categories.empty()) return {};
  const Scale s{m.lo, m.hi, key_h, 0, false};
  const auto end_label = [&](double v) {
    if (!m.log10_values) return escape(number(v, 3));
    return v == std::round(v) ? decade_label(int(v)) : escape(number(std::pow(10.0, v), 2));
  };
  std::vector<double> ticks;
  if (m.log10_values)
    for (int e : log_ticks(m.lo, m.hi, 4)) ticks.push_back(e);
  else
    ticks = linear_ticks(m.lo, m.hi, 4);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  std::vector<BarLabel> labels{{9, end_label(m.hi), true}, {key_h + 4, end_label(m.lo), true}};
  for (double t : ticks)
    if (std::abs(s(t)) > 20 && std::abs(s(t) - key_h) > 20)
      labels.push_back({s(t) + 4.5,
                        m.log10_values ? decade_label(int(t)) : escape(tick_label(t, step)), false});
  return labels;
}

}  // namespace

std::string heatmap(const Heatmap& m) {
  const std::size_t rows = m.y_labels.size(), cols = m.x_labels.size();
  // Row labels up to 40 characters (a swept layer stack's description needs them).
  const std::vector<std::string> y_shown = distinct_shorten(m.y_labels, 40);
  double label_w = 0;
  for (const std::string& l : y_shown) label_w = std::max(label_w, text_width(l));
  const double left = std::max(label_w + 14, 30.0);
  const double top = m.y_label.empty() ? 30 : 50;
  const double cw = m.cell_width, ch = m.cell_height;
  const double gw = cw * double(cols), gh = std::max(ch * double(rows), 1.0);
  const double bottom = m.x_label.empty() ? 28 : 48;
  // The colour bar is at least as tall as its rotated label.
  const double key_h = m.categories.empty()
                           ? std::max({gh, 100.0, text_width(m.scale_label, 7.0) + 8})
                           : 22.0 * double(m.categories.size());
  const std::vector<BarLabel> bar_labels = colour_bar_labels(m, key_h);
  // The bar (14 px), its labels from 19 px, then the rotated scale label clear of the widest.
  double bar_label_w = 0;
  for (const BarLabel& b : bar_labels) bar_label_w = std::max(bar_label_w, markup_width(b.text, 8.3));
  const double scale_label_x = std::max(64.0, 19 + bar_label_w + 12);
  double key_w = std::max(76.0, scale_label_x + 12);
  if (m.log10_values) key_w = std::max(key_w, text_width(m.zero_label, 6.6) + 26);
  if (!m.categories.empty()) {
    key_w = 0;
    for (const Category& c : m.categories) key_w = std::max(key_w, text_width(c.label) + 36);
  }
  // Bold 15 px DejaVu Sans averages about 9.4 px a character: titles must not be clipped.
  const double x_label_w = text_width(m.x_label, 8.0);
  const double width = std::max({left + gw + 20 + key_w, text_width(m.title, 9.4) + 20,
                                 text_width(m.y_label, 8.4) + 24, left + x_label_w + 8});
  const double height = top + std::max(gh, key_h + (m.log10_values ? 26 : 0)) + bottom;

  std::string out = open_svg(width, height, m.title);
  out += title_text(m.title, width);
  out += "<g transform=\"translate(" + coord(left) + "," + coord(top) + ")\" font-size=\"13\">";
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = r < m.values.size() && c < m.values[r].size()
                           ? m.values[r][c]
                           : std::numeric_limits<double>::quiet_NaN();
      const bool explicit_fill = r < m.fills.size() && c < m.fills[r].size() && !m.fills[r][c].empty();
      const std::string fill = explicit_fill ? m.fills[r][c] : heatmap_fill(m, v);
      const double cx = cw * double(c), cy = ch * double(r);
      out += "<rect class=\"cell\" x=\"" + coord(cx) + "\" y=\"" + coord(cy) + "\" width=\"" + coord(cw) +
             "\" height=\"" + coord(ch) + "\" fill=\"" + fill + "\"" +
             (cw >= 12 ? " stroke=\"#ffffff\" stroke-width=\"1\"" : "") + "/>";
      if (!explicit_fill && fill == "#ffffff")  // no value: a struck-through white cell
        out += "<line x1=\"" + coord(cx + 2) + "\" y1=\"" + coord(cy + ch - 2) + "\" x2=\"" +
               coord(cx + cw - 2) + "\" y2=\"" + coord(cy + 2) + "\" stroke=\"#bbbbbb\"/>";
      if (r < m.texts.size() && c < m.texts[r].size() && !m.texts[r][c].empty()) {
        const unsigned rgb = std::stoul(fill.substr(1), nullptr, 16);
        const double lum = luminance({((rgb >> 16) & 255) / 255.0, ((rgb >> 8) & 255) / 255.0,
                                      (rgb & 255) / 255.0});
        out += text(cx + 0.5 * cw, cy + 0.5 * ch + 4.5, escape(m.texts[r][c]),
                    "text-anchor=\"middle\" font-size=\"12\" fill=\"" +
                        std::string(lum > 0.3 ? "#000000" : "#ffffff") + "\"");
      }
    }
  }
  out += "<rect width=\"" + coord(gw) + "\" height=\"" + coord(gh) +
         "\" fill=\"none\" stroke=\"#444444\"/>";
  const std::size_t y_every = std::max<std::size_t>(1, (rows + m.max_y_labels - 1) / m.max_y_labels);
  for (std::size_t r = 0; r < rows; r += y_every)
    out += text(-6, ch * (double(r) + 0.5) + 4.5, label_text(m.y_labels[r], y_shown[r]),
                "text-anchor=\"end\"");
  const std::size_t x_every = std::max<std::size_t>(1, (cols + m.max_x_labels - 1) / m.max_x_labels);
  const std::size_t max_chars = std::max<std::size_t>(3, std::size_t(cw * double(x_every) / kCharWidth));
  const std::vector<std::string> x_shown = distinct_shorten(m.x_labels, max_chars);
  for (std::size_t c = 0; c < cols; c += x_every)
    out += text(cw * (double(c) + 0.5), gh + 18, label_text(m.x_labels[c], x_shown[c]),
                "text-anchor=\"middle\"");
  if (!m.x_label.empty())
    out += text(std::max(0.5 * gw, 0.5 * x_label_w + 8 - left), gh + 40, escape(m.x_label),
                "text-anchor=\"middle\" font-size=\"14\"");
  // The rows' key goes above the grid, from the left edge: a short grid would clip it rotated.
  if (!m.y_label.empty())
    out += text(8 - left, -8, escape(m.y_label), "font-size=\"14\"");
  // Key: swatches for categories, else a colour bar with ticks.
  const double kx = gw + 20;
  if (!m.categories.empty()) {
    for (std::size_t i = 0; i < m.categories.size(); ++i) {
      const double ky = 22.0 * double(i);
      out += "<rect x=\"" + coord(kx) + "\" y=\"" + coord(ky) + "\" width=\"22\" height=\"16\" fill=\"" +
             m.categories[i].fill + "\" stroke=\"#444444\"/>";
      out += text(kx + 28, ky + 13, escape(m.categories[i].label));
    }
  } else {
    constexpr int kSteps = 24;
    for (int i = 0; i < kSteps; ++i) {
      const double v = m.hi - (m.hi - m.lo) * (i + 0.5) / kSteps;
      out += "<rect x=\"" + coord(kx) + "\" y=\"" + coord(key_h * i / kSteps) +
             "\" width=\"14\" height=\"" + coord(key_h / kSteps + 0.5) + "\" fill=\"" +
             heatmap_fill(m, v) + "\"/>";
    }
    out += "<rect x=\"" + coord(kx) + "\" width=\"14\" height=\"" + coord(key_h) +
           "\" fill=\"none\" stroke=\"#444444\"/>";
    for (const BarLabel& b : bar_labels)
      out += text(kx + 19, b.y, b.text, b.end ? "class=\"bar-end\"" : "");
    if (m.log10_values) {
      out += "<rect x=\"" + coord(kx) + "\" y=\"" + coord(key_h + 12) +
             "\" width=\"14\" height=\"12\" fill=\"#000000\" stroke=\"#444444\"/>";
      out += text(kx + 19, key_h + 22, escape(m.zero_label), "font-size=\"11\"");
    }
    out += text(0, 0, escape(m.scale_label),
                "transform=\"translate(" + coord(kx + scale_label_x) + "," + coord(0.5 * key_h) +
                    ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\"");
  }
  return out + "</g></svg>";
}

}  // namespace gradflow::svg
