// The CLI's subcommands. Each returns the process exit code; InputError propagates to main,
// the only place that catches it.
#pragma once

#include <string>
#include <vector>

namespace gradflow::cli {

// Exit codes, documented in README.md.
inline constexpr int kExitOk = 0;          // also for a run that diverged: that is a result
inline constexpr int kExitBadInput = 1;    // config, data or output folder problem
inline constexpr int kExitUsage = 2;       // command-line usage (CLI11)
inline constexpr int kExitInterrupted = 130;

struct Verbosity {
  bool quiet = false;
  bool verbose = false;
};

struct RunOptions {
  std::string config;
  std::string out;  // empty: results/runs/<name>
  std::vector<std::string> overrides;
};

int run_command(const RunOptions& options, const Verbosity& verbosity);
int validate_command(const RunOptions& options, const Verbosity& verbosity);

}  // namespace gradflow::cli
