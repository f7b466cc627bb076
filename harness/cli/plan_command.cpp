// `gradflow plan`: expands a config's sweep and prints its runs (index, id, swept values) and
// the work they ask for, writing nothing; a bad sweep fails here, before any run starts.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "tables.hpp"
#include "config/config.hpp"
#include "run/plan.hpp"
#include "run/runner.hpp"
#include "config/sweep.hpp"

namespace gradflow::cli {
namespace {

// Whole numbers below 10^5 as they are, larger ones as "1.2e9" (two significant digits).
std::string work_number(double x) {
  char buf[48];
  if (x < 1e5) {
    std::snprintf(buf, sizeof buf, "%.0f", x);
    return buf;
  }
  const int exponent = static_cast<int>(std::floor(std::log10(x)));
  double mantissa = x / std::pow(10.0, exponent);
  int e = exponent;
  if (std::round(mantissa * 10) >= 100) {  // 9.96e7 rounds to 1.0e8
    mantissa /= 10;
    ++e;
  }
  std::snprintf(buf, sizeof buf, "%.1fe%d", mantissa, e);
  return buf;
}

std::string table(const SweepPlan& plan) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"index", "run_id"};
  header.insert(header.end(), plan.swept_keys.begin(), plan.swept_keys.end());
  rows.push_back(header);
  for (const RunSpec& run : plan.runs) {
    std::vector<std::string> row = {std::to_string(run.index), run.id};
    for (const SweptValue& v : run.swept) row.push_back(v.label);
    rows.push_back(std::move(row));
  }
  return text_table(rows);
}

}  // namespace

int plan_command(const RunOptions& options, const Verbosity& verbosity) {
  Json doc = read_json_file(options.config);
  for (const std::string& assignment : options.overrides) apply_override(doc, assignment);
  const auto [plan, work] = with_overrides_named(options.config, options.overrides, [&] {
    SweepPlan p = expand_sweep(doc, options.config);
    // The memory refusal `run` would give (csv configs: their files are read for the shape).
    check_runs(p.runs, CheckDepth::memory);
    WorkEstimate w = estimate_work(p.runs);
    return std::pair{std::move(p), std::move(w)};
  });
  if (verbosity.quiet) return kExitOk;
  const std::size_t n = plan.runs.size();
  std::printf("%s: %s, %zu run%s\n\n%s\n", plan.name.c_str(),
              plan.is_sweep ? "sweep" : "single run (no sweep section)", n, n == 1 ? "" : "s",
              table(plan).c_str());
  std::printf("work: %zu run%s, %s parameter-steps in total (largest run %s)\n", n,
              n == 1 ? "" : "s", work_number(work.total).c_str(),
              work_number(work.largest).c_str());
  return kExitOk;
}

}  // namespace gradflow::cli
