// SVG building blocks for the HTML report: text escaping, number formatting, axis ticks
// (linear and log10), a perceptually ordered colormap, and line styles that stay apart when
// printed in grey (each has its own marker shape and luminance). Pure formatting, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow::svg {

// Text for XML content and attribute values: & < > " ' escaped, control characters dropped.
std::string escape(std::string_view text);

// A coordinate: one decimal, no "-0.0" (keeps the page small and byte-stable).
std::string coord(double v);

// A number for a label, with `digits` significant digits ("0.0123", "1.5e+03", "nan").
std::string number(double v, int digits = 3);

// Ticks at 1, 2 or 5 x 10^k steps inside [lo, hi], about `target` of them.
std::vector<double> linear_ticks(double lo, double hi, int target = 5);
// Decade exponents for a log10 axis spanning [lo_exp, hi_exp] (log10 of the data range):
// every integer in it, or every 2nd, 5th, 10th, ... decade when there are more than `target`.
std::vector<int> log_ticks(double lo_exp, double hi_exp, int target = 7);
// Label of a linear tick, with as many decimals as the tick step needs.
std::string tick_label(double v, double step);
// Label of a log tick 10^e as SVG text content: "1", "10", or "10" with a raised exponent.
std::string decade_label(int exponent);

// Maps data values to pixels; a log scale takes log10 of the value (lo/hi are then exponents).
struct Scale {
  double lo = 0, hi = 1;        // data range (log10 exponents for a log scale)
  double px_lo = 0, px_hi = 1;  // pixel positions of lo and hi
  bool log = false;
  double operator()(double v) const;
  bool usable(double v) const;  // finite, and positive on a log scale
};

struct Rgb {
  double r = 0, g = 0, b = 0;  // 0..1, sRGB
};
// Viridis (van der Walt & Smith 2015, matplotlib): luminance rises monotonically with t, so
// the order survives grey printing. t is clamped to [0, 1].
Rgb viridis(double t);
std::string hex(const Rgb& c);
// Relative luminance (WCAG 2), to pick black or white text on a cell.
double luminance(const Rgb& c);

// Line style i: a colour (Okabe & Ito's colour-blind-safe set, spread in luminance) and a
// marker shape; styles repeat after kLineStyles.
inline constexpr std::size_t kLineStyles = 8;
std::string line_color(std::size_t style);
// A marker of style `style` centred at (x, y).
std::string marker(std::size_t style, double x, double y);

}  // namespace gradflow::svg
