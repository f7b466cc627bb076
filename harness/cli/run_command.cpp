// `gradflow run` (one run, or a sweep) and `gradflow validate`.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "base/atomic_file.hpp"
#include "base/dir_lock.hpp"
#include "base/errors.hpp"
#include "commands.hpp"
#include "config/config.hpp"
#include "config/sweep.hpp"
#include "progress.hpp"
#include "run/run.hpp"
#include "run/runner.hpp"
#include "run/sweep_output.hpp"
#include "tables.hpp"

namespace gradflow::cli {
namespace {

std::string default_out_dir(const std::string& name) {
  return (std::filesystem::path("results") / "runs" / name).string();
}

SweepPlan load_plan(const RunOptions& options) {
  Json doc = read_json_file(options.config);
  for (const std::string& o : options.overrides) apply_override(doc, o);
  return expand_sweep(doc, options.config);
}

// "i/n" with 0 <= i < n.
void parse_shard(const std::string& text, SweepOptions& out) {
  unsigned long i = 0, n = 0;
  char slash = 0, extra = 0;
  // %lu would accept "-1" as a huge number; only digits, '/' and blanks may appear.
  const bool plain = text.find_first_not_of("0123456789/ ") == std::string::npos;
  if (!plain || std::sscanf(text.c_str(), "%lu %c %lu %c", &i, &slash, &n, &extra) != 3 ||
      slash != '/' || n == 0 || i >= n)
    throw InputError("--shard", "", "expected I/N with 0 <= I < N (e.g. 0/4), got \"" + text + "\"");
  out.shard_index = i;
  out.shard_count = n;
}

int run_single(const RunSpec& spec, const RunOptions& options, const Verbosity& verbosity) {
  PreparedRun run = prepare_run(spec.config);
  const std::string out = options.out.empty() ? default_out_dir(spec.config.name) : options.out;
  // As for sweeps: a second gradflow writing this folder is refused, never interleaved.
  ensure_writable_dir(out);
  const DirLock lock(out);
  spdlog::info("{}: {} hidden layers, {} parameters, {} steps -> {}", spec.config.name,
               spec.config.model.depth, run.layout.parameter_count, spec.config.train.steps, out);
  install_interrupt_handlers();
  RunOutcome outcome;
  {
    ProgressLine progress(spec.config.name, !verbosity.quiet);
    outcome = execute_run(std::move(run), out, progress.fn());
  }
  if (outcome.interrupted) {
    spdlog::warn("interrupted: no results written to {}", out);
    return kExitInterrupted;
  }
  if (!verbosity.quiet) {
    std::printf("results in %s\n\n%s\n%s", out.c_str(),
                layer_table(outcome.init_layers, outcome.final_layers).c_str(),
                summary_text(outcome.summary).c_str());
  }
  return kExitOk;
}

int run_many(const SweepPlan& plan, const RunOptions& options, const Verbosity& verbosity) {
  SweepOptions sweep;
  sweep.jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  sweep.force = options.force;
  if (!options.shard.empty()) parse_shard(options.shard, sweep);
  const std::string out = options.out.empty() ? default_out_dir(plan.name) : options.out;
  spdlog::info("{}: {} runs{} with {} jobs -> {}", plan.name, plan.runs.size(),
               sweep.shard_count > 1 ? " (shard " + options.shard + ")" : std::string(),
               sweep.jobs, out);

  install_interrupt_handlers();
  const std::vector<RunSpec> mine = shard_runs(plan.runs, sweep.shard_index, sweep.shard_count);
  double mean_steps = 0;
  std::size_t finished = 0;
  for (const RunSpec& r : mine) {
    mean_steps += double(r.config.train.steps) / double(mine.size());
    finished += !sweep.force && run_finished(run_folder(out, r.id));
  }
  SweepOutcome outcome;
  {  // the live line is cleared before the results are printed
    SweepProgress progress(mine.size(), finished, mean_steps, !verbosity.quiet);
    SweepEvents events;
    events.should_stop = [] { return interrupted(); };
    events.on_step = [&](const RunSpec& spec, long step, long steps) {
      progress.step(spec.id, step, steps);
    };
    events.on_run_done = [&](const RunSpec& spec, const RunOutcome& r, std::size_t done,
                             std::size_t total) {
      progress.print_above([&] {
        spdlog::info("[{}/{}] {} {}: {}, final loss {}", done, total, spec.id, spec.label,
                     r.summary.verdicts, short_number(r.summary.final_loss));
      });
      progress.run_done(done);
    };
    outcome = run_sweep(plan, out, sweep, events);
  }

  for (const RunFailure& f : outcome.failed)
    spdlog::error("run {} ({}) failed: {}", f.id, f.label, f.message);
  if (!verbosity.quiet) {
    std::printf("results in %s: %zu runs finished (%zu ran now, %zu already done)%s\n",
                out.c_str(), outcome.tables.finished, outcome.ran, outcome.skipped,
                outcome.tables.missing.empty()
                    ? ""
                    : (", " + std::to_string(outcome.tables.missing.size()) + " missing").c_str());
    std::printf("tables: runs.csv, layers.csv, steps.csv, lifecycle.csv; "
                "see `gradflow summarize %s`\n", out.c_str());
  }
  if (outcome.interrupted) {
    spdlog::warn("interrupted: finished runs are kept; rerun the same command to resume");
    return kExitInterrupted;
  }
  return outcome.failed.empty() ? kExitOk : kExitBadInput;
}

}  // namespace

int validate_command(const RunOptions& options, const Verbosity& verbosity) {
  const SweepPlan plan = load_plan(options);
  const PreparedRun run = prepare_run(plan.runs.front().config);  // data and init_from too
  if (!verbosity.quiet)
    std::printf("%s: valid (%zu run%s; first: %ld hidden layers, %zu parameters, %ld steps)\n",
                options.config.c_str(), plan.runs.size(), plan.runs.size() == 1 ? "" : "s",
                run.config.model.depth, run.layout.parameter_count, run.config.train.steps);
  return kExitOk;
}

int run_command(const RunOptions& options, const Verbosity& verbosity) {
  const SweepPlan plan = load_plan(options);
  if (!plan.is_sweep) {
    if (!options.shard.empty() || options.force)
      spdlog::warn("--shard and --force apply to sweeps; {} has no sweep section",
                   options.config);
    return run_single(plan.runs.front(), options, verbosity);
  }
  return run_many(plan, options, verbosity);
}

}  // namespace gradflow::cli
