// The CLI's subcommands. Each returns the process exit code; InputError propagates to main,
// the only place that catches it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace gradflow::cli {

// Exit codes, documented in README.md (Commands).
inline constexpr int kExitOk = 0;          // also for a run that diverged: that is a result
inline constexpr int kExitBadInput = 1;    // config, data or output folder problem
inline constexpr int kExitUsage = 2;       // command-line usage (CLI11)
inline constexpr int kExitIncomplete = 3;   // merge, submit --wait: planned runs missing
inline constexpr int kExitInterrupted = 130;

struct Verbosity {
  bool quiet = false;
  bool verbose = false;
};

struct RunOptions {
  std::string config;
  std::string out;  // empty: results/runs/<name>
  std::vector<std::string> overrides;
  std::size_t jobs = 0;  // sweeps: parallel runs; 0 = number of cores
  bool force = false;    // sweeps: rerun finished runs too
  std::string shard;     // sweeps: "i/n", run the i-th of n slices (0-based)
};

int run_command(const RunOptions& options, const Verbosity& verbosity);
int validate_command(const RunOptions& options, const Verbosity& verbosity);
int plan_command(const RunOptions& options, const Verbosity& verbosity);

struct MergeOptions {
  std::vector<std::string> shards;
  std::string out;
};
int merge_command(const MergeOptions& options, const Verbosity& verbosity);

struct SubmitOptions {
  std::string config;
  std::string out;  // DIR: merged results, with shards/, logs/ and slurm/ inside
  std::vector<std::string> overrides;
  std::size_t array_size = 0;  // tasks; 0: one per run (or the earlier submission's)
  std::string partition;       // empty: the cluster's default
  std::string time;            // empty: the partition's default
  std::size_t cpus_per_task = 0;
  std::vector<std::string> setup;  // shell lines before gradflow in each job
  bool dry_run = false;            // print the scripts; write and submit nothing
  bool wait = false;               // wait for the merge job, report like `merge`
};
int submit_command(const SubmitOptions& options, const Verbosity& verbosity);

// `compare` has its own exit codes so scripts can tell "results changed" from "unusable": it
// catches its own InputError and returns kExitCompareUnusable.
inline constexpr int kExitCompareDrifted = 1;   // a value, verdict, row or column drifted
inline constexpr int kExitCompareUnusable = 2;  // runs missing in new, or a folder unusable

struct CompareCommandOptions {
  std::string baseline;
  std::string current;
  double rtol = 1e-6;
  double atol = 1e-9;
  std::size_t max_lines = 20;  // drift lines printed, worst first
  std::vector<std::string> verdict_overrides;  // --set verdict.KEY=VALUE
};
int compare_command(const CompareCommandOptions& options, const Verbosity& verbosity);

struct SummarizeOptions {
  std::string dir;
  std::string rows;    // swept key for a pivot's rows
  std::string cols;    // swept key for its columns
  std::string metric;  // runs.csv column or "verdict"; empty: grad_ratio_log10_init
  std::vector<std::string> verdict_overrides;  // --set verdict.KEY=VALUE
};
int summarize_command(const SummarizeOptions& options, const Verbosity& verbosity);

struct ReportCommandOptions {
  std::vector<std::string> dirs;  // one folder, or several to overlay
  std::string out;     // empty: DIR/report.html (./report.html for several folders)
  std::string svg_dir;  // non-empty: each figure also as DIR/NNN-title.svg
  std::string metric;  // sweep heatmaps: runs.csv column or "verdict"
  std::string rows, cols, panel;  // swept keys; empty: chosen from sweep.json
  std::vector<std::string> runs;  // run ids for the per-run sections
  std::size_t max_runs = 6;
  std::size_t max_groups = 12;
  std::vector<std::string> verdict_overrides;  // --set verdict.KEY=VALUE
};
int report_command(const ReportCommandOptions& options, const Verbosity& verbosity);


}  // namespace gradflow::cli
