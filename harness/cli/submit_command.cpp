// `gradflow submit`: a sweep as a Slurm job array (one shard per task) plus a dependent merge
// job. Writes the scripts and a copy of the config into DIR, runs sbatch, and with --wait
// reports the merged result like `gradflow merge` (exit 3 when runs are missing).
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "base/atomic_file.hpp"
#include "commands.hpp"
#include "config/config_reader.hpp"
#include "base/dir_lock.hpp"
#include "base/errors.hpp"
#include "run/merge.hpp"
#include "run/run.hpp"
#include "run/runner.hpp"
#include "run/slurm.hpp"
#include "run/sweep_output.hpp"

extern char** environ;

namespace gradflow::cli {
namespace {
namespace fs = std::filesystem;

std::string absolute_path(const std::string& path) {
  return fs::absolute(fs::path(path)).lexically_normal().string();
}

// A program on PATH, as the shell would find it; empty when absent.
std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
    start = end + 1;
  }
  return {};
}

struct ProcessResult {
  int code = -1;  // exit code; -1 when killed by a signal
  std::string out;
};

// Runs argv[0] (found on PATH) and collects its stdout; its stderr goes to ours, so sbatch's
// own messages reach the user unchanged (or to /dev/null).
ProcessResult run_process(const std::vector<std::string>& argv, bool drop_stderr = false) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw InputError(argv[0], "", std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
  if (drop_stderr)
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int error = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (error != 0) {
    ::close(pipe_fds[0]);
    throw InputError(argv[0], "", std::string("cannot run: ") + std::strerror(error));
  }
  ProcessResult r;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    r.out.append(buf, std::size_t(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string submit_sbatch(const std::vector<std::string>& argv, const std::string& what) {
  const ProcessResult r = run_process(argv);
  if (r.code != 0)
    throw InputError("sbatch", "",
                     "submitting the " + what + " failed (exit " + std::to_string(r.code) +
                         "); sbatch's message is above");
  return parse_sbatch_job_id(r.out);
}

// Relative data.path / model.init_from are resolved against the config's folder (and are part
// of the run ids as written), so a copy elsewhere would read other files: such configs are
// read in place.
bool uses_relative_paths(const SweepPlan& plan) {
  auto relative = [](const std::string& p) { return !p.empty() && fs::path(p).is_relative(); };
  for (const RunSpec& r : plan.runs)
    if ((is_file_data(r.config.data.kind) &&
         (relative(r.config.data.path) || relative(r.config.data.labels_path) ||
          relative(r.config.data.targets_path))) ||
        relative(r.config.model.init_from))
      return true;
  return false;
}

// The earlier submission into this folder (DIR/slurm/submit.json), if any.
struct Earlier {
  std::size_t shard_count = 0;
  std::string jobs;  // "array,merge"
};

Earlier read_earlier(const std::string& out_dir) {
  const std::string path = slurm_dir(out_dir) + "/submit.json";
  if (!fs::exists(path)) return {};
  const Json j = parse_json_text(read_text_file(path), path);
  if (!j.is_object() || !j.contains("shard_count") || !j["shard_count"].is_number_unsigned() ||
      j["shard_count"].get<std::size_t>() == 0)
    throw InputError(path, "/shard_count",
                     "expected the record of an earlier `gradflow submit` (a shard count >= 1)");
  std::string jobs;
  for (const char* key : {"array_job", "merge_job"})
    if (j.contains(key) && j[key].is_string()) {
      if (!jobs.empty()) jobs += ',';
      jobs += j[key].get<std::string>();
    }
  return {j["shard_count"].get<std::size_t>(), jobs};
}

// A second array while the first still runs would find its shards locked, and fail.
void check_not_queued(const Earlier& earlier) {
  if (earlier.jobs.empty() || find_on_path("squeue").empty()) return;
  // Jobs long gone are unknown to squeue: it exits non-zero, and that is fine.
  const ProcessResult r = run_process({"squeue", "--noheader", "--jobs=" + earlier.jobs,
                                       "--states=pending,running,completing,configuring,suspended",
                                       "--format=%i"},
                                      true);
  if (r.code == 0 && r.out.find_first_not_of(" \n") != std::string::npos)
    throw InputError("--out", "",
                     "jobs " + earlier.jobs + " of the earlier submission into this folder are "
                     "still queued or running (squeue); wait for them, or scancel them, then "
                     "submit again");
}

void check_same_plan(const std::string& out_dir, const SweepPlan& plan) {
  const SweepManifest m = read_manifest(out_dir);
  bool same = m.runs.size() == plan.runs.size();
  for (std::size_t i = 0; same && i < plan.runs.size(); ++i) same = m.runs[i].id == plan.runs[i].id;
  if (!same)
    throw InputError(out_dir + "/sweep.json", "",
                     "this folder holds an earlier submission of a different sweep (its run ids "
                     "differ), and its shards are slices of that sweep; submit into a fresh --out");
}

bool finished_anywhere(const std::string& out_dir, std::size_t shard_count, const RunSpec& r) {
  return run_finished(run_folder(out_dir, r.id)) ||
         run_finished(run_folder(shard_dir(out_dir, r.index % shard_count), r.id));
}

// The merged result over the plan, as `gradflow merge` reports it.
int report_merged(const std::string& out_dir, const SweepPlan& plan, const Verbosity& verbosity) {
  std::vector<std::string> missing;
  for (const RunSpec& r : plan.runs)
    if (!run_finished(run_folder(out_dir, r.id))) missing.push_back(r.id);
  if (!verbosity.quiet)
    std::printf("merged into %s: %zu of %zu runs finished\n", out_dir.c_str(),
                plan.runs.size() - missing.size(), plan.runs.size());
  std::fflush(stdout);  // before the warning on stderr
  if (missing.empty()) return kExitOk;
  std::string ids;
  for (const std::string& id : missing) ids += (ids.empty() ? "" : ", ") + id;  // string + string
  spdlog::warn("{} runs missing (see {}; `gradflow submit` again reruns only them): {}",
               missing.size(), logs_dir(out_dir), ids);
  return kExitIncomplete;
}

// With nothing left to train, merging here is quicker than a job.
int merge_locally(const std::string& out_dir, std::size_t shard_count, const SweepPlan& plan,
                  const Verbosity& verbosity) {
  std::vector<std::string> sources = {out_dir};
  for (std::size_t i = 0; i < shard_count; ++i)
    if (fs::exists(shard_dir(out_dir, i) + "/sweep.json")) sources.push_back(shard_dir(out_dir, i));
  (void)merge_shards(sources, out_dir);
  return report_merged(out_dir, plan, verbosity);
}

}  // namespace

int submit_command(const SubmitOptions& options, const Verbosity& verbosity) {
  SlurmOptions slurm;
  slurm.array_size = options.array_size;
  slurm.partition = options.partition;
  slurm.time = options.time;
  slurm.cpus_per_task = options.cpus_per_task;
  slurm.setup = options.setup;
  check_slurm_options(slurm);
  Json doc = read_json_file(options.config);
  for (const std::string& o : options.overrides) apply_override(doc, o);
  const SweepPlan plan = with_overrides_named(options.config, options.overrides, [&] {
    SweepPlan p = expand_sweep(doc, options.config);
    if (!p.is_sweep)
      throw InputError(options.config, "/sweep",
                       "submit runs a sweep as a job array, and this config has no sweep "
                       "section; for one run use sbatch --wrap \"gradflow run ...\"");
    check_runs(p.runs, CheckDepth::full);  // data files, memory, init_from: as `validate` does
    return p;
  });

  const std::string out = absolute_path(options.out);
  check_sbatch_path("--out", out);
  const Earlier earlier = read_earlier(out);
  if (earlier.shard_count > 0) check_same_plan(out, plan);
  if (!options.dry_run) check_not_queued(earlier);
  const std::size_t n = choose_array_size(slurm.array_size, plan.runs.size(), earlier.shard_count);
  if (slurm.array_size > n && earlier.shard_count == 0)
    spdlog::info("--array-size {} is more than the {} runs: using {} tasks", slurm.array_size,
                 plan.runs.size(), n);

  SlurmJob job;
  job.gradflow = fs::read_symlink("/proc/self/exe").string();
  job.name = plan.name;
  job.out_dir = out;
  job.shard_count = n;
  const bool in_place = uses_relative_paths(plan);
  if (in_place) {
    job.config = absolute_path(options.config);
    job.overrides = options.overrides;
    spdlog::warn("{} has relative data paths, so the tasks read it in place: do not edit it "
                 "until the sweep has finished", options.config);
  } else {
    job.config = slurm_dir(out) + "/config.json";
  }
  job.tasks = shards_to_run(plan, n, [&](const RunSpec& r) { return finished_anywhere(out, n, r); });

  if (job.tasks.empty()) {
    if (options.dry_run) {
      std::printf("all %zu runs are finished in %s: nothing to submit\n", plan.runs.size(),
                  out.c_str());
      return kExitOk;
    }
    spdlog::info("all {} runs are finished: nothing to submit, merging here", plan.runs.size());
    return merge_locally(out, n, plan, verbosity);
  }
  const std::string array_text = array_script(job, slurm);
  const std::string merge_text = merge_script(job, slurm);
  if (options.dry_run) {
    std::printf("# %s/array.sbatch (%zu of %zu tasks)\n%s\n# %s/merge.sbatch (after the array)\n%s",
                slurm_dir(out).c_str(), job.tasks.size(), n, array_text.c_str(),
                slurm_dir(out).c_str(), merge_text.c_str());
    return kExitOk;
  }
  if (find_on_path("sbatch").empty())
    throw InputError("sbatch", "",
                     "not found on PATH: submit needs Slurm's client tools (module load slurm, "
                     "or on Debian apt-get install slurm-client); --dry-run prints the scripts");

  const std::string array_file = slurm_dir(out) + "/array.sbatch";
  const std::string merge_file = slurm_dir(out) + "/merge.sbatch";
  {
    // Held while writing only: the merge job takes the same lock.
    ensure_writable_dir(out);
    const DirLock lock(out);
    for (const std::string& dir : {slurm_dir(out), logs_dir(out), out + "/shards"})
      ensure_writable_dir(dir);
    if (!in_place) {
      Json copy = doc;
      copy["name"] = plan.name;  // a copy named config.json must keep the sweep's name
      const std::string text = copy.dump(2) + "\n";
      // The tasks must expand the copy to exactly these runs (ids are hashes of the configs).
      const SweepPlan reread = expand_sweep(Json::parse(text), job.config);
      GF_ASSERT(reread.runs.size() == plan.runs.size());
      for (std::size_t i = 0; i < plan.runs.size(); ++i)
        GF_ASSERT(reread.runs[i].id == plan.runs[i].id);
      write_file_atomic(job.config, text);
    }
    // The plan's manifest: the merge job always has one source, even if no task ever starts.
    write_file_atomic(out + "/sweep.json",
                      manifest_to_json(manifest_from_plan(plan, 0, 1)).dump(2) + "\n");
    write_file_atomic(array_file, array_text);
    write_file_atomic(merge_file, merge_text);
  }

  const std::string array_job = submit_sbatch({"sbatch", "--parsable", array_file}, "job array");
  Json record = {{"shard_count", n}, {"array_job", array_job}, {"tasks", job.tasks}};
  write_file_atomic(slurm_dir(out) + "/submit.json", record.dump(2) + "\n");
  if (!verbosity.quiet)
    std::printf("submitted job array %s: task%s %s of %zu (%zu runs in the sweep) -> %s\n",
                array_job.c_str(), job.tasks.size() == 1 ? "" : "s", array_spec(job.tasks).c_str(),
                n, plan.runs.size(), out.c_str());

  std::vector<std::string> merge_argv = {"sbatch", "--parsable",
                                         "--dependency=afterany:" + array_job};
  if (options.wait) merge_argv.push_back("--wait");
  merge_argv.push_back(merge_file);
  if (options.wait && !verbosity.quiet) {
    std::printf("waiting for the array and the merge job (logs in %s)\n", logs_dir(out).c_str());
    std::fflush(stdout);
  }
  // sbatch --wait exits with the merge job's code (3: runs missing); the check below says why.
  const ProcessResult merged = run_process(merge_argv);
  std::optional<std::string> merge_job;
  try {
    merge_job = parse_sbatch_job_id(merged.out);
  } catch (const InputError&) {
  }
  if (!merge_job)
    throw InputError("sbatch", "",
                     "submitting the merge job failed (exit " + std::to_string(merged.code) +
                         "); job array " + array_job + " is queued: after it, run `gradflow merge " +
                         out + " " + out + "/shards/* --out " + out + "`");
  record["merge_job"] = *merge_job;
  write_file_atomic(slurm_dir(out) + "/submit.json", record.dump(2) + "\n");
  if (!options.wait) {
    if (!verbosity.quiet)
      std::printf("submitted merge job %s (runs after the array); follow with `squeue -j %s,%s`; "
                  "logs in %s\n", merge_job->c_str(), array_job.c_str(), merge_job->c_str(),
                  logs_dir(out).c_str());
    return kExitOk;
  }
  return report_merged(out, plan, verbosity);
}

}  // namespace gradflow::cli
