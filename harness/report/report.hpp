// The HTML report of a run or a sweep: one self-contained page (inline SVG, no script, no
// network), written as XHTML-compatible markup so any XML parser can check it. Same inputs,
// same bytes: nothing on the page depends on the time or the machine.
#pragma once

#include <string>
#include <vector>

#include "report/report_data.hpp"
#include "report/report_layout.hpp"

namespace gradflow {

// The page for `data` laid out by `layout` (plan_report).
std::string render_report(const ReportData& data, const ReportLayout& layout);

// load_report_data (and merge_report_data for several folders) + plan_report +
// render_report. Throws InputError for a bad folder or option.
std::string build_report(const std::vector<std::string>& dirs, const ReportOptions& options);

}  // namespace gradflow
