// `gradflow report DIR...`: one self-contained HTML page for a run or a sweep folder, or for
// several overlaid; optionally each figure as an SVG file too. Every file is written
// atomically, and nothing is written when a folder or an option is bad.
#include <cstdio>
#include <filesystem>

#include "base/atomic_file.hpp"
#include "commands.hpp"
#include "report/figure_files.hpp"
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
  const std::string page = build_report(options.dirs, report);
  const std::string out =
      !options.out.empty() ? options.out
      : options.dirs.size() > 1
          ? std::string("report.html")
          : (std::filesystem::path(options.dirs.front()) / "report.html").string();
  const std::string parent = std::filesystem::path(out).parent_path().string();
  if (!parent.empty()) ensure_writable_dir(parent);
  const auto figures = options.svg_dir.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                               : standalone_figures(page);
  if (!options.svg_dir.empty()) ensure_writable_dir(options.svg_dir);
  write_file_atomic(out, page);
  for (const auto& [name, svg] : figures)
    write_file_atomic((std::filesystem::path(options.svg_dir) / name).string(), svg);
  if (!verbosity.quiet) {
    std::printf("report written to %s (%zu KB)\n", out.c_str(), page.size() / 1024);
    if (!figures.empty())
      std::printf("%zu figures written to %s as SVG\n", figures.size(), options.svg_dir.c_str());
  }
  return kExitOk;
}

}  // namespace gradflow::cli
