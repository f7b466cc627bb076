// Plain-text tables for the terminal: the per-layer gradient-flow table printed after a run.
#pragma once

#include <string>
#include <vector>

#include "train/records.hpp"

namespace gradflow::cli {

// Columns: layer, units, grad_w_norm / delta_norm / dead_fraction at init and at the end.
// Deep nets show the first and last `edge` layers with "..." between.
std::string layer_table(const std::vector<LayerRecord>& init, const std::vector<LayerRecord>& end,
                        std::size_t edge = 6);

// Status, final loss / accuracy and the run-level indicators, one per line.
std::string summary_text(const RunSummary& s);

// Aligned plain-text columns, two spaces apart, widths counted in UTF-8 code points ("±" is one
// column); the first row is usually the header.
std::string text_table(const std::vector<std::vector<std::string>>& rows,
                       const std::vector<bool>& right_align = {});

// Compact number for tables: 3 significant digits, "-" for NaN.
std::string short_number(double v);

}  // namespace gradflow::cli
