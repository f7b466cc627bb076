// SVG building blocks; see svg.hpp.
#include "report/svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace gradflow::svg {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // XML 1.0 forbids most control characters; tabs and newlines are kept.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
    }
  }
  return out;
}

std::string coord(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s == "-0.0") s = "0.0";
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}

std::string number(double v, int digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  std::string s = buf;
  return s == "-0" ? "0" : s;
}

namespace {

// The smallest of 1, 2, 5, 10, 20, 50, ... x `unit` that gives at most `target` steps over
// `span` (unit: the smallest step allowed).
double nice_step(double span, int target, double unit) {
  const double raw = span / std::max(target, 1);
  for (double decade = unit;; decade *= 10)
    for (double m : {1.0, 2.0, 5.0})
      if (decade * m >= raw) return decade * m;
}

}  // namespace

std::vector<double> linear_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(std::isfinite(lo) && std::isfinite(hi)) || hi < lo) return ticks;
  if (hi == lo) return {lo};
  const double span = hi - lo;
  const double unit = std::pow(10.0, std::floor(std::log10(span / std::max(target, 1))));
  const double step = nice_step(span, target, unit);
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (int i = 0;; ++i) {
    const double t = first + i * step;
    if (t > hi + step * 1e-9) break;
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::vector<int> log_ticks(double lo_exp, double hi_exp, int target) {
  std::vector<int> ticks;
  if (!(std::isfinite(lo_exp) && std::isfinite(hi_exp)) || hi_exp < lo_exp) return ticks;
  const int first = static_cast<int>(std::ceil(lo_exp - 1e-9));
  const int last = static_cast<int>(std::floor(hi_exp + 1e-9));
  const int step = static_cast<int>(nice_step(last - first, target, 1.0));
  // Multiples of the step, so ticks read 10^-10, 10^-5, 10^0 rather than 10^-9, 10^-4, ...
  const int start = static_cast<int>(std::ceil(double(first) / step)) * step;
  for (int e = start; e <= last; e += step) ticks.push_back(e);
  return ticks;
}

std::string tick_label(double v, double step) {
  const int decimals = step >= 1 ? 0 : std::min(6, int(std::ceil(-std::log10(step) - 1e-9)));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  const std::string s = buf;
  return s.find_first_not_of("-0.") == std::string::npos ? std::string("0") : s;  // "-0.0"
}

std::string decade_label(int exponent) {
  if (exponent == 0) return "1";
  if (exponent == 1) return "10";
  // A minus sign (U+2212) reads better than a hyphen in a raised exponent.
  const std::string e = exponent < 0 ? "\xE2\x88\x92" + std::to_string(-exponent)
                                     : std::to_string(exponent);
  return "10<tspan dy=\"-6\" font-size=\"75%\">" + e + "</tspan>";
}

double Scale::operator()(double v) const {
  const double x = log ? std::log10(v) : v;
  if (hi == lo) return 0.5 * (px_lo + px_hi);
  return px_lo + (x - lo) / (hi - lo) * (px_hi - px_lo);
}

bool Scale::usable(double v) const { return std::isfinite(v) && (!log || v > 0); }

Rgb viridis(double t) {
  // matplotlib's viridis sampled at t = 0, 0.1, ..., 1; linear in between.
  static constexpr std::array<std::array<int, 3>, 11> kStops = {{{68, 1, 84},
                                                                 {72, 36, 117},
                                                                 {65, 68, 135},
                                                                 {53, 95, 141},
                                                                 {42, 120, 142},
                                                                 {33, 145, 140},
                                                                 {34, 168, 132},
                                                                 {68, 191, 112},
                                                                 {122, 209, 81},
                                                                 {189, 223, 38},
                                                                 {253, 231, 37}}};
  if (!std::isfinite(t)) t = 0;
  t = std::clamp(t, 0.0, 1.0) * 10.0;
  const std::size_t i = std::min<std::size_t>(9, static_cast<std::size_t>(t));
  const double f = t - double(i);
  const auto mix = [&](int c) {
    return ((1 - f) * kStops[i][c] + f * kStops[i + 1][c]) / 255.0;
  };
  return {mix(0), mix(1), mix(2)};
}

std::string hex(const Rgb& c) {
  const auto byte = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 1.0) * 255)); };
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", byte(c.r), byte(c.g), byte(c.b));
  return buf;
}

double luminance(const Rgb& c) {
  const auto linear = [](double v) {
    return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
}

std::string line_color(std::size_t style) {
  // Okabe & Ito (2008), ordered so neighbours differ in luminance as well as hue.
  static constexpr std::array<const char*, kLineStyles> kColors = {
      "#000000", "#e69f00", "#0072b2", "#009e73", "#d55e00", "#56b4e9", "#cc79a7", "#7f7f7f"};
  return kColors[style % kLineStyles];
}

std::string marker(std::size_t style, double x, double y) {
  const std::string color = line_color(style);
  const std::string X = coord(x), Y = coord(y);
  const auto at = [&](double dx, double dy) { return coord(x + dx) + "," + coord(y + dy); };
  const std::string filled = "fill=\"" + color + "\" stroke=\"" + color + "\"";
  const std::string hollow = "fill=\"#ffffff\" stroke=\"" + color + "\" stroke-width=\"1.5\"";
  switch (style % kLineStyles) {
    case 0:
      return "<circle cx=\"" + X + "\" cy=\"" + Y + "\" r=\"3.5\" " + filled + "/>";
    case 1:
      return "<rect x=\"" + coord(x - 3.5) + "\" y=\"" + coord(y - 3.5) +
             "\" width=\"7\" height=\"7\" " + filled + "/>";
    case 2:
      return "<polygon points=\"" + at(0, -4.5) + " " + at(4.2, 3) + " " + at(-4.2, 3) + "\" " +
             filled + "/>";
    case 3:
      return "<polygon points=\"" + at(0, -4.5) + " " + at(4.5, 0) + " " + at(0, 4.5) + " " +
             at(-4.5, 0) + "\" " + filled + "/>";
    case 4:
      return "<polygon points=\"" + at(0, 4.5) + " " + at(4.2, -3) + " " + at(-4.2, -3) + "\" " +
             hollow + "/>";
    case 5:
      return "<path d=\"M" + at(-3.5, -3.5) + "L" + at(3.5, 3.5) + "M" + at(-3.5, 3.5) + "L" +
             at(3.5, -3.5) + "\" stroke=\"" + color + "\" stroke-width=\"2\" fill=\"none\"/>";
    case 6:
      return "<rect x=\"" + coord(x - 3.5) + "\" y=\"" + coord(y - 3.5) +
             "\" width=\"7\" height=\"7\" " + hollow + "/>";
    default:
      return "<circle cx=\"" + X + "\" cy=\"" + Y + "\" r=\"3.5\" " + hollow + "/>";
  }
}

}  // namespace gradflow::svg
