// Slurm job arrays for sweeps: the sbatch scripts `gradflow submit` writes (task i of N trains
// `--shard i/N` into DIR/shards/<i>; a dependent job merges the shards into DIR), which tasks a
// resubmission needs, and sbatch's reply. Pure functions: the CLI writes files and runs sbatch.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/sweep.hpp"

namespace gradflow {

// What the user asked for on the command line; empty / 0 means "not given" (cluster default).
struct SlurmOptions {
  std::size_t array_size = 0;  // tasks (shards); 0: one per run, or the earlier submission's
  std::string partition;
  std::string time;  // --time, e.g. "30", "2:00:00", "1-12"
  std::size_t cpus_per_task = 0;
  std::vector<std::string> setup;  // shell lines run before gradflow (e.g. "module load gcc")
};

// Everything a script needs. Paths are absolute: jobs start on other nodes, in another folder.
struct SlurmJob {
  std::string gradflow;                // the binary
  std::string config;                  // the config the tasks read
  std::vector<std::string> overrides;  // --set KEY=VALUE for the tasks
  std::string out_dir;                 // DIR: merged results; shards, logs and scripts inside
  std::string name;                    // the sweep's name (job names)
  std::size_t shard_count = 1;         // N
  std::vector<std::size_t> tasks;      // array indices to run (shards), ascending
};

// Where things go inside DIR.
std::string shard_dir(const std::string& out_dir, std::size_t shard);
std::string slurm_dir(const std::string& out_dir);  // DIR/slurm: scripts, config copy, record
std::string logs_dir(const std::string& out_dir);   // DIR/logs: one file per task and job

// The number of tasks: `requested` (0: one per run), at most one per run. `earlier` is the
// count an earlier submission into the same folder used (0: none); shards are slices of the
// plan by index mod N, so a resubmission must keep N. Throws InputError("--array-size", ...).
std::size_t choose_array_size(std::size_t requested, std::size_t run_count, std::size_t earlier);

// Shards (index mod shard_count) holding at least one run that is not finished.
std::vector<std::size_t> shards_to_run(const SweepPlan& plan, std::size_t shard_count,
                                       const std::function<bool(const RunSpec&)>& finished);

// Slurm's --array syntax for ascending indices, ranges collapsed: {0,1,2,5,7,8} -> "0-2,5,7-8".
std::string array_spec(const std::vector<std::size_t>& tasks);

// Throws InputError naming the option when a value would not survive a #SBATCH line or the
// shell (newlines, quotes, '%' patterns in paths), or is not in Slurm's format.
void check_slurm_options(const SlurmOptions& options);
void check_sbatch_path(const std::string& option, const std::string& path);

// The job array: task $SLURM_ARRAY_TASK_ID runs `gradflow run CONFIG --shard ID/N` into
// DIR/shards/ID, with --jobs from $SLURM_CPUS_PER_TASK.
std::string array_script(const SlurmJob& job, const SlurmOptions& options);
// The merge job (run after the array with afterany): merges DIR and every shard that wrote its
// manifest into DIR; exits 3 when runs are missing, like `gradflow merge`.
std::string merge_script(const SlurmJob& job, const SlurmOptions& options);

// The job id in sbatch's reply: "--parsable" ("123" or "123;cluster") or the plain
// "Submitted batch job 123". Throws InputError("sbatch", ...) quoting the reply otherwise.
std::string parse_sbatch_job_id(std::string_view reply);

// Single-quoted for a POSIX shell: abc -> 'abc', it's -> 'it'\''s'.
std::string shell_quote(std::string_view text);

}  // namespace gradflow
