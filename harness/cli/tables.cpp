// Terminal tables; see tables.hpp.
#include "tables.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "io/writers.hpp"

namespace gradflow::cli {

std::string short_number(double v) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

namespace {

// Terminal width of UTF-8 text: code points, not bytes ("±" is two bytes, one column).
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string text_table(const std::vector<std::vector<std::string>>& rows,
                       const std::vector<bool>& right_align) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (widths.size() <= c) widths.push_back(0);
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(widths[c] - display_width(row[c]), ' ');
      if (c > 0) line += "  ";
      const bool right = c < right_align.size() && right_align[c];
      line += right ? pad + row[c] : row[c] + (c + 1 < row.size() ? pad : "");
    }
    out += line + "\n";
  }
  return out;
}

namespace {

std::string row(const std::vector<std::string>& cells, const std::vector<int>& widths) {
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, i == 0 ? "%-*s" : "  %*s", widths[i], cells[i].c_str());
    out += buf;
  }
  return out + "\n";
}

}  // namespace

std::string layer_table(const std::vector<LayerRecord>& init, const std::vector<LayerRecord>& end,
                        std::size_t edge) {
  // The first column names the row: "3", "9 out", or for other kinds "4 batch_norm"; wider
  // than 7 characters only when such rows need it (a plain MLP's table is unchanged).
  const auto name = [](const LayerRecord& r) {
    std::string out = std::to_string(r.layer);
    if (r.output) {
      out += " out";
    } else if (r.kind != RowKind::dense) {
      out += ' ';
      out += row_kind_name(r.kind);
    }
    return out;
  };
  std::vector<int> widths = {7, 6, 10, 10, 10, 10, 7, 7};
  for (const LayerRecord& r : init) widths[0] = std::max(widths[0], int(name(r).size()));
  std::string out = row({"layer", "units", "grad_w@0", "grad_w@end", "delta@0", "delta@end",
                         "dead@0", "dead@end"},
                        widths);
  const std::size_t n = init.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (n > 2 * edge + 1 && i == edge) {
      out += row({"...", "", "", "", "", "", "", ""}, widths);
      i = n - edge - 1;
      continue;
    }
    const LayerRecord& a = init[i];
    const LayerRecord* b = i < end.size() ? &end[i] : nullptr;
    auto at_end = [&](double LayerRecord::*field) { return short_number(b ? b->*field : kNaN); };
    out += row({name(a), std::to_string(a.fan_out),
                short_number(a.grad_w_norm), at_end(&LayerRecord::grad_w_norm),
                short_number(a.delta_norm), at_end(&LayerRecord::delta_norm),
                short_number(a.dead_fraction), at_end(&LayerRecord::dead_fraction)},
               widths);
  }
  return out;
}

std::string summary_text(const RunSummary& s) {
  std::string out = "status: " + std::string(run_status_name(s.status));
  if (s.status == RunStatus::diverged)
    out += " at step " + std::to_string(s.diverged_step) + " (non-finite " + s.diverged_reason +
           ")";
 out += ", verdict: " + s.verdicts;
  out += ", " + std::to_string(s.steps_done) + " updates, " + std::to_string(s.parameters) +
         " parameters\n";
  out += "final loss " + short_number(s.final_loss) + ", accuracy " +
         short_number(s.final_accuracy) + " (probe: loss " + short_number(s.final_probe_loss) +
         ", accuracy " + short_number(s.final_probe_accuracy) + ")\n";
  out += "log10 grad_w_norm first/last layer: " + short_number(s.grad_ratio_log10_init) +
         " at init (theory " + short_number(s.theory_grad_ratio_log10) + "), " +
         short_number(s.grad_ratio_log10_final) + " at the end\n";
  out += "log10 delta_norm first/last layer:  " + short_number(s.delta_ratio_log10_init) +
         " at init (theory " + short_number(s.theory_delta_ratio_log10) + "), " +
         short_number(s.delta_ratio_log10_final) + " at the end\n";
  for (const std::string& caveat : s.theory_caveats) out += "  theory caveat: " + caveat + "\n";
  out += "largest dead fraction of a layer:   " + short_number(s.max_dead_fraction_init) +
         " at init, " + short_number(s.max_dead_fraction_final) + " at the end\n";
  return out;
}

}  // namespace gradflow::cli
