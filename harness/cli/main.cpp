// gradflow's command line: parses arguments (CLI11), sets up logging (spdlog), dispatches to
// a subcommand, and is the only place that turns errors into messages and exit codes.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "base/errors.hpp"
#include "version.hpp"

namespace {

constexpr const char* kExamples = R"(Examples:
  gradflow run configs/quickstart.json
  gradflow run configs/quickstart.json --set model.depth=50 --set model.activation=tanh
  gradflow run configs/dying_relu_lr.json --out results/runs/dying
  gradflow validate configs/my_experiment.json
  gradflow compare results/baseline results/new --rtol 1e-4
  gradflow summarize results/sweep --rows model.depth --cols model.activation
  gradflow plan configs/my_sweep.json --set sweep.seeds=5
  gradflow submit configs/dying_relu_lr.json --out /shared/me/dying --array-size 5 --time 1:00:00
  gradflow report results/runs/activations_depth20 --metric verdict
)";

void setup_logging(const gradflow::cli::Verbosity& v) {
  auto logger = spdlog::stderr_color_mt("gradflow");
  logger->set_pattern("gradflow: %^%l%$: %v");
  logger->set_level(v.quiet ? spdlog::level::err
                            : v.verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void add_run_options(CLI::App* cmd, std::string& config, std::vector<std::string>& overrides) {
  cmd->add_option("config", config, "Experiment config (JSON)")->required();
  cmd->add_option("--set", overrides,
                  "Override a config key: --set model.depth=50 (repeatable; value is JSON, "
                  "or a plain string)")
      ->type_name("KEY=VALUE")
      // One value per --set, so `run --set a=1 config.json` still finds the config.
      ->allow_extra_args(false);
}

// --set on the commands that read results: verdict thresholds only (docs/theory.md).
void add_verdict_option(CLI::App* cmd, std::vector<std::string>& overrides) {
  cmd->add_option("--set", overrides,
                  "Judge verdicts with this threshold: --set verdict.vanishing_decades=5 "
                  "(repeatable; default: the thresholds the folder records)")
      ->type_name("verdict.KEY=VALUE")
      ->allow_extra_args(false);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gradflow::cli;
  CLI::App app{"gradflow: train deep networks and record per-layer gradient flow"};
  app.footer(kExamples);
  app.set_version_flag("--version", std::string("gradflow ") + gradflow::kVersion + " (" +
                                        gradflow::kGitRevision + ", " + gradflow::kCompiler + ")");
  Verbosity verbosity;
  app.add_flag("-q,--quiet", verbosity.quiet, "Only print errors");
  app.add_flag("-v,--verbose", verbosity.verbose, "Print debug messages");
  app.require_subcommand(1);
  app.fallthrough();  // -q / -v work after the subcommand too

  RunOptions run_options;
  CLI::App* run = app.add_subcommand("run", "Train the run a config describes and write its "
                                            "results folder");
  add_run_options(run, run_options.config, run_options.overrides);
  run->add_option("-o,--out", run_options.out, "Results folder (default: results/runs/<name>)");
  run->add_option("-j,--jobs", run_options.jobs,
                  "Sweeps: runs trained in parallel, each on one thread (default: all cores)");
  run->add_flag("--force", run_options.force, "Sweeps: rerun runs that already finished");
  run->add_option("--shard", run_options.shard,
                  "Sweeps: run only slice i of n (0-based, e.g. 0/4); `gradflow merge` joins them")
      ->type_name("I/N");

  RunOptions validate_options;
  CLI::App* validate =
      app.add_subcommand("validate", "Check a config (and its data files) without running it");
  add_run_options(validate, validate_options.config, validate_options.overrides);

  RunOptions plan_options;
  CLI::App* plan = app.add_subcommand(
      "plan", "List the runs a config's sweep expands to (ids, swept values, work); writes nothing");
  add_run_options(plan, plan_options.config, plan_options.overrides);

  MergeOptions merge_options;
  CLI::App* merge = app.add_subcommand(
      "merge", "Join shard folders (run --shard i/n) into one sweep folder with its tables");
  merge->add_option("shards", merge_options.shards, "Shard folders")->required();
  merge->add_option("-o,--out", merge_options.out, "Merged folder (may be one of the shards)")
      ->required();

  SubmitOptions submit_options;
  CLI::App* submit = app.add_subcommand(
      "submit", "Run a sweep on Slurm: a job array (task i trains shard i) and a dependent job "
                "that merges the shards into --out");
  add_run_options(submit, submit_options.config, submit_options.overrides);
  submit->add_option("-o,--out", submit_options.out,
                     "Results folder on storage the compute nodes share (shards, logs and the "
                     "sbatch scripts go inside)")
      ->required();
  submit->add_option("--array-size", submit_options.array_size,
                     "Tasks (shards) in the job array (default: one per run; at most one per run)")
      ->check(CLI::PositiveNumber);
  submit->add_option("--partition", submit_options.partition, "Slurm partition");
  submit->add_option("--time", submit_options.time, "Time limit per task (e.g. 30, 2:00:00, 1-12)");
  submit->add_option("--cpus-per-task", submit_options.cpus_per_task,
                     "CPUs per task; its runs train in parallel, one per CPU (default 1)")
      ->check(CLI::PositiveNumber);
  submit->add_option("--setup", submit_options.setup,
                     "A shell line each job runs first, e.g. \"module load gcc/12\" (repeatable)")
      ->type_name("LINE")
      ->allow_extra_args(false);  // one line per --setup: the config after it stays positional
  submit->add_flag("--dry-run", submit_options.dry_run,
                   "Print the sbatch scripts; write and submit nothing");
  submit->add_flag("--wait", submit_options.wait,
                   "Wait until the merge job ends; exit 3 when runs are missing, like merge");

  CompareCommandOptions compare_options;
  CLI::App* compare =
      app.add_subcommand("compare",
                         "Compare results (a run or a sweep folder) against a baseline within a "
                         "tolerance; exit 0 same, 1 drifted, 2 runs missing or unusable input");
  compare->add_option("baseline", compare_options.baseline, "Baseline results folder")->required();
  compare->add_option("new", compare_options.current, "New results folder")->required();
  compare->add_option("--rtol", compare_options.rtol, "Relative tolerance")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  compare->add_option("--atol", compare_options.atol, "Absolute tolerance")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  compare->add_option("--max-lines", compare_options.max_lines, "Drift lines to print")
      ->capture_default_str();
  add_verdict_option(compare, compare_options.verdict_overrides);

  SummarizeOptions summarize_options;
  CLI::App* summarize = app.add_subcommand(
      "summarize", "Print a finished sweep as a table (one line per run, or a pivot)");
  summarize->add_option("dir", summarize_options.dir, "Results folder (a sweep or a run)")
      ->required();
  summarize->add_option("--rows", summarize_options.rows, "Swept key for the pivot's rows");
  summarize->add_option("--cols", summarize_options.cols, "Swept key for the pivot's columns");
  summarize->add_option("--metric", summarize_options.metric,
                        "runs.csv column or \"verdict\" (default grad_ratio_log10_init)");
  add_verdict_option(summarize, summarize_options.verdict_overrides);

  ReportCommandOptions report_options;
  CLI::App* report = app.add_subcommand(
      "report",
      "Write one self-contained HTML page (inline SVG) for a run or a sweep folder, or for "
      "several overlaid (one line per folder)");
  report->add_option("dir", report_options.dirs, "Results folders (sweeps or runs)")
      ->required()
      ->expected(1, -1)
      ->type_name("DIR");
  report->add_option("-o,--out", report_options.out,
                     "HTML file (default: DIR/report.html; ./report.html for several folders)");
  report->add_option("--svg-dir", report_options.svg_dir,
                     "Also write each figure as a standalone SVG file into this folder");
  report->add_option("--metric", report_options.metric,
                     "Sweep heatmaps: runs.csv column or \"verdict\" (default: the first of "
                     "grad_ratio_log10_init, units_died_fraction, grad_ratio_log10_final, ... "
                     "that varies between runs)");
  report->add_option("--rows", report_options.rows, "Sweep heatmaps: swept key for the rows");
  report->add_option("--cols", report_options.cols, "Sweep heatmaps: swept key for the columns");
  report->add_option("--panel", report_options.panel,
                     "Swept key with one heatmap panel, and one line in the gradient plots, per "
                     "value (default: model.activation when swept)");
  report->add_option("--run", report_options.runs,
                     "Run id for the per-run sections (repeatable; default: the first few)")
      ->type_name("ID")
      ->allow_extra_args(false);  // one id per --run: folders may follow it
  report->add_option("--max-runs", report_options.max_runs, "Per-run sections at most")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  report->add_option("--max-groups", report_options.max_groups, "Groups of plots at most")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_verdict_option(report, report_options.verdict_overrides);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  setup_logging(verbosity);
  try {
    if (*run) return run_command(run_options, verbosity);
    if (*validate) return validate_command(validate_options, verbosity);
    if (*plan) return plan_command(plan_options, verbosity);
    if (*merge) return merge_command(merge_options, verbosity);
    if (*submit) return submit_command(submit_options, verbosity);
    if (*compare) return compare_command(compare_options, verbosity);
    if (*summarize) return summarize_command(summarize_options, verbosity);
    if (*report) return report_command(report_options, verbosity);
  } catch (const gradflow::InputError& e) {
    spdlog::error("{}", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitBadInput;
  }
  return kExitUsage;
}
