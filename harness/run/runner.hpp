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
  bool force = false;  // rerun finished runs too
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

// Checks every distinct data set and network shape of the plan (so a bad CSV or an oversized
// network is refused before any run starts), then runs. Throws InputError for bad input and
// when another process holds the folder's lock.
SweepOutcome run_sweep(const SweepPlan& plan, const std::string& out_dir,
                       const SweepOptions& options, const SweepEvents& events);

}  // namespace gradflow
