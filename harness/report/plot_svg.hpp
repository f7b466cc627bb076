// Whole SVG figures for the report: a line plot (linear or log10 y axis, solid measured lines
// with markers, dashed predictions), a legend, and a heatmap (continuous colour scale with a
// colour bar, or categories with swatches; optional text in every cell).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace gradflow::svg {

struct Series {
  std::string label;
  std::vector<double> x, y;  // points that are not finite (or <= 0 on a log axis) break the line
  std::size_t style = 0;     // colour and marker (svg.hpp)
  bool dashed = false;       // a prediction rather than a measurement
  bool markers = true;
  // Optional, one per point: hover text ("3 batch_norm"), drawn as an invisible target with
  // an SVG <title> on every point, marked or not.
  std::vector<std::string> point_titles;
};

// A shaded x interval with a short label (on activation plots: where phi' is 0 or tiny).
struct Band {
  double x0 = 0, x1 = 0;
  std::string label;
};

// A vertical mark at x with a label at its top (a diverged run's last step).
struct Mark {
  double x = 0;
  std::string label;
  std::size_t style = 7;
};

struct LinePlot {
  std::string title, x_label, y_label;
  bool y_log = false;
  std::optional<double> x_min, x_max, y_min, y_max;  // default: the data's range
  bool integer_x = false;  // x ticks at integers only (layer index)
  std::vector<Series> series;
  std::vector<Band> bands;
  std::vector<Mark> marks;
  std::string note;  // one line of small text under the title (e.g. "theory: step 0 only")
  // Log axes only: when non-empty, values that are exactly 0 are drawn on an extra bottom
  // line labelled "0" (with their markers) and this text is added to the note, e.g. "0: no
  // gradient". Without it a zero cannot be drawn on a log axis and its line vanishes.
  std::string zero_note;
  // Horizontal dashed guide lines (y value, label), e.g. the 1e-3 update ratio.
  std::vector<std::pair<double, std::string>> guides;
  int width = 400, height = 280;
};
std::string line_plot(const LinePlot& plot);

struct LegendEntry {
  std::string label;
  std::size_t style = 0;
  bool dashed = false;
  bool markers = true;
};
// Entries in rows that fit `width` pixels.
std::string legend(const std::vector<LegendEntry>& entries, int width);

struct Category {
  std::string label;
  std::string fill;  // "#rrggbb"
};

struct Heatmap {
  std::string title, x_label, y_label;
  std::vector<std::string> x_labels;  // one per column
  std::vector<std::string> y_labels;  // one per row, drawn top to bottom
  std::vector<std::vector<double>> values;  // [row][col]; NaN cells are drawn hatched
  // Optional: text written in each cell ([row][col]); explicit fills for categorical maps.
  std::vector<std::vector<std::string>> texts;
  std::vector<std::vector<std::string>> fills;
  std::vector<Category> categories;  // non-empty: swatches instead of a colour bar
  double lo = 0, hi = 1;   // colour scale range
  bool reversed = false;   // high values dark (fractions: "more dead" is darker)
  // Values are log10 of the quantity: the colour bar is labelled in decades (10^k), and -inf
  // cells (the quantity was exactly 0) are drawn black, with a "0" swatch under the bar.
  bool log10_values = false;
  std::string zero_label = "0";
  std::string scale_label;
  int cell_width = 60, cell_height = 28;
  int max_x_labels = 12;  // label every k-th column so they do not overlap
  int max_y_labels = 20;
};
std::string heatmap(const Heatmap& map);

// Colour of value v on a heatmap's scale (viridis, or reversed).
std::string heatmap_fill(const Heatmap& map, double v);

}  // namespace gradflow::svg
