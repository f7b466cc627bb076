// Runs a sweep's runs in parallel (one run per thread, each single-threaded), skipping runs
// already finished in the folder, and keeps the sweep tables current as runs finish. Results
// do not depend on the number of jobs: each run is deterministic and tables are in plan order.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "run/run.hpp"
#include "config/sweep.hpp"
#include "run/sweep_output.hpp"

namespace gradflow {

struct SweepOptions {
  std::size_t jobs = 1;
  // Rerun finished runs too, replace a single run's folder, remove run folders not in the plan.
  bool force = false;
  std::size_t shard_index = 0, shard_count = 1;
};

// Called from worker threads, one call at a time.
struct SweepEvents {
  std::function<bool()> should_stop;  // polled every training step; true stops the sweep
  std::function<void(const RunSpec&, const RunOutcome&, std::size_t done, std::size_t total)>
      on_run_done;
  // Unlike the others, called from several worker threads at once: a run's step after each
  // training step, and once more with step -1 when the run ends, however it ends (live
  // progress lines).
  std::function<void(const RunSpec&, long step, long steps)> on_step;
};

struct RunFailure {
  std::string id;
  std::string label;
  std::string message;
};

struct SweepOutcome {
  std::size_t selected = 0;  // runs of this shard
  std::size_t skipped = 0;   // already finished
  std::size_t ran = 0;
  bool interrupted = false;
  std::vector<RunFailure> failed;
  TableStats tables;
};

enum class CheckDepth {
  full,    // what a run checks before it trains: builds each data set and initial parameters
  memory,  // only the memory estimate (what `plan` reports; csv files are still read)
};

// Checks `runs` as `gradflow run` does before any run starts, each distinct data set and
// network shape once (seeds aside), so a later run's missing file, oversized network or NaN
// initial weights are refused as the first run's are. An error caused by a swept value names
// its sweep entry (locate_in_sweep). Returns the number of distinct configs checked.
std::size_t check_runs(const std::vector<RunSpec>& runs, CheckDepth depth);

// Checks every distinct data set and network shape of the plan (so a bad CSV or an oversized
// network is refused before any run starts), then runs. Throws InputError for bad input and
// when another process holds the folder's lock, when the folder holds a single run, or (without
// --force) run folders that are not in the plan.
SweepOutcome run_sweep(const SweepPlan& plan, const std::string& out_dir,
                       const SweepOptions& options, const SweepEvents& events);

}  // namespace gradflow
