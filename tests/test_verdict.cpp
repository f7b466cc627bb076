// Verdicts: the rules (analysis/verdict.hpp) and their judging at command time from recorded
// indicators with the thresholds in force (analysis/rejudge.hpp): a rerun that skips finished
// runs, summarize, report and compare never show a verdict frozen at training time.
#include <catch2/catch.hpp>

#include <filesystem>
#include <limits>

#include "analysis/rejudge.hpp"
#include "analysis/verdict.hpp"
#include "analysis/compare.hpp"
#include "base/csv_table.hpp"
#include "io/writers.hpp"
#include "support.hpp"

using namespace gradflow;
using test::contains;

namespace {

std::string cell(const CsvTable& t, std::size_t row, const std::string& column) {
  for (std::size_t c = 0; c < t.header.size(); ++c)
    if (t.header[c] == column) return t.rows.at(row).at(c);
  FAIL("no column " << column << " in " << t.source);
  return "";
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// Row 0: a 12-layer sigmoid net (vanishing at the default 3 decades, about 6 decades down);
// row 1: a 3-layer relu He net (healthy).
const char* kSweep = R"({
  "name": "verdicts-in-force", "seed": 5,
  "data": {"kind": "gaussian_mixture", "dim": 8, "classes": 3, "train_size": 128,
           "probe_size": 32},
  "model": {"width": 16},
  "train": {"steps": 4, "batch_size": 32},
  "log": {"every": 2},
  "sweep": {"zip": [{"model.activation": ["sigmoid", "relu"],
                     "model.init": ["xavier_normal", "he_normal"],
                     "model.depth": [12, 3]}]}
})";

}  // namespace

TEST_CASE("exploding is judged on delta and on the gradient norm's growth", "[verdict]") {
  RunSummary flat;
  flat.grad_ratio_log10_init = flat.grad_ratio_log10_final = 0;
  flat.delta_ratio_log10_init = flat.delta_ratio_log10_final = 0;
  flat.grad_norm_init = flat.max_grad_norm = 1;
  const VerdictConfig t;
  REQUIRE(verdict_list(judge_run(flat, t)) == "healthy");
  // relu at gain g: delta grows g-fold per layer towards the input, grad_w's ratio stays flat.
  for (const double decades : {3.5, 8.0}) {
    RunSummary v = flat;
    v.delta_ratio_log10_init = decades;
    INFO("delta ratio at init " << decades);
    REQUIRE(verdict_list(judge_run(v, t)) == "exploding");
    v = flat;
    v.delta_ratio_log10_final = decades;
    REQUIRE(verdict_list(judge_run(v, t)) == "exploding");
  }
  // A weight-gradient ratio alone is not an explosion of the signal.
  RunSummary ratio_only = flat;
  ratio_only.grad_ratio_log10_init = 4;
  REQUIRE(verdict_list(judge_run(ratio_only, t)) == "healthy");
  // A blow-up that ends in NaN: the norm's growth before it is recorded.
  RunSummary blew_up = flat;
  blew_up.status = RunStatus::diverged;
  blew_up.max_grad_norm = 1e9;
  REQUIRE(verdict_list(judge_run(blew_up, t)) == "diverged+exploding");
  blew_up.max_grad_norm = 10;
  REQUIRE(verdict_list(judge_run(blew_up, t)) == "diverged");
}

TEST_CASE("verdicts follow the thresholds in force: rerun, summarize, report, compare",
          "[verdict]") {
  test::TempDir dir("verdict-in-force");
  const std::string config = dir.file("sweep.json"), out = dir.file("out");
  test::write_text(config, kSweep);
  const test::CliResult first = test::gradflow_cli("run " + config + " --out " + out + " -q");
  INFO(first.output);
  REQUIRE(first.code == 0);
  CsvTable runs = read_csv_table(out + "/runs.csv");
  REQUIRE(cell(runs, 0, "verdict") == "vanishing");
  REQUIRE(cell(runs, 1, "verdict") == "healthy");
  std::filesystem::copy(out, dir.file("baseline"), std::filesystem::copy_options::recursive);

  // A rerun skips both finished runs and labels them with the thresholds given now.
  const test::CliResult rerun = test::gradflow_cli(
      "run " + config + " --out " + out + " --set verdict.vanishing_decades=50");
  INFO(rerun.output);
  REQUIRE(rerun.code == 0);
  REQUIRE(contains(rerun.output, "0 ran now, 2 already done"));
  runs = read_csv_table(out + "/runs.csv");
  REQUIRE(cell(runs, 0, "verdict") == "healthy");
  REQUIRE(cell(runs, 0, "verdicts") == "healthy");
  REQUIRE(recorded_thresholds(out).vanishing_decades == 50);

  // summarize: the folder's recorded thresholds, or --set.
  const test::CliResult recorded = test::gradflow_cli("summarize " + out);
  INFO(recorded.output);
  REQUIRE(recorded.code == 0);
  REQUIRE_FALSE(contains(recorded.output, "vanishing"));
  const test::CliResult strict =
      test::gradflow_cli("summarize " + out + " --set verdict.vanishing_decades=3");
  INFO(strict.output);
  REQUIRE(strict.code == 0);
  REQUIRE(contains(strict.output, "vanishing"));
  const test::CliResult single = test::gradflow_cli(
      "summarize " + out + "/runs/" + cell(runs, 0, "run_id") + " --set verdict.vanishing_decades=3");
  INFO(single.output);
  REQUIRE(contains(single.output, "vanishing"));
  REQUIRE(test::gradflow_cli("summarize " + out + " --set model.depth=3").code == 1);

  // report: the same.
  REQUIRE(test::gradflow_cli("report " + out + " -o " + dir.file("a.html") + " -q").code == 0);
  REQUIRE(test::gradflow_cli("report " + out + " -o " + dir.file("b.html") +
                             " -q --set verdict.vanishing_decades=3")
              .code == 0);
  INFO("report verdicts");
  REQUIRE(occurrences(test::read_text(dir.file("b.html")), ">vanishing<") +
              occurrences(test::read_text(dir.file("b.html")), "verdict vanishing") >
          occurrences(test::read_text(dir.file("a.html")), ">vanishing<") +
              occurrences(test::read_text(dir.file("a.html")), "verdict vanishing"));

  // compare: both folders are judged with one set of thresholds (the new folder's, or --set),
  // so a stale label in a file is no drift; indicators that cross a threshold are.
  const std::string stale = dir.file("baseline/runs.csv");
  std::string text = test::read_text(stale);
  const std::size_t at = text.find(",vanishing,vanishing,");
  REQUIRE(at != std::string::npos);
  text.replace(at, 21, ",healthy,healthy,");
  test::write_text(stale, text);
  const test::CliResult same = test::gradflow_cli("compare " + dir.file("baseline") + " " + out);
  INFO(same.output);
  REQUIRE(same.code == 0);
  REQUIRE(test::gradflow_cli("compare " + dir.file("baseline") + " " + out +
                             " --set verdict.vanishing_decades=3")
              .code == 0);
}

TEST_CASE("an infinite indicator survives summary.json, so judging again keeps its verdict",
          "[verdict]") {
  // A layer whose gradient is exactly 0 (every unit dead) has grad_ratio_log10 = -inf:
  // vanishing. summary.json must not turn it into a missing value.
  RunSummary s;
  s.grad_ratio_log10_init = 0.1;
  s.grad_ratio_log10_final = -std::numeric_limits<double>::infinity();
  s.final_loss = kNaN;
  judge_summary(s, VerdictConfig{});
  REQUIRE(s.verdicts == "vanishing");
  const Json j = summary_to_json(s);
  REQUIRE(j.at("grad_ratio_log10_final") == "-inf");
  REQUIRE(j.at("final_loss").is_null());
  test::TempDir dir("verdict-inf");
  test::write_text(dir.file("summary.json"), j.dump(2));
  const ResultsFolder folder = load_results_folder(dir.path.string());
  REQUIRE(cell(folder.runs, 0, "verdicts") == "vanishing");
}
