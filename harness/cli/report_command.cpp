// `gradflow report DIR`: one self-contained HTML page for a run or a sweep folder, written
// atomically (nothing is written when the folder or an option is bad).
#include <cstdio>
#include <filesystem>

#include "base/atomic_file.hpp"
#include "commands.hpp"
#include "report/report.hpp"

namespace gradflow::cli {

int report_command(const ReportCommandOptions& options, const Verbosity& verbosity) {
  ReportOptions report;
  report.metric = options.metric;
  report.rows = options.rows;
  report.cols = options.cols;
  report.panel = options.panel;
  report.runs = options.runs;
  report.max_runs = options.max_runs;
  report.max_groups = options.max_groups;
  report.verdict_overrides = options.verdict_overrides;
  const std::string page = build_report(options.dir, report);
  const std::string out =
      options.out.empty() ? (std::filesystem::path(options.dir) / "report.html").string()
                          : options.out;
  const std::string parent = std::filesystem::path(out).parent_path().string();
  if (!parent.empty()) ensure_writable_dir(parent);
  write_file_atomic(out, page);
  if (!verbosity.quiet) std::printf("report written to %s (%zu KB)\n", out.c_str(), page.size() / 1024);
  return kExitOk;
}

}  // namespace gradflow::cli
