// The parallel sweep runner; see runner.hpp.
#include "run/runner.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "base/atomic_file.hpp"
#include "base/dir_lock.hpp"
#include "base/errors.hpp"
#include "run/results_folder.hpp"

namespace gradflow {
namespace {

// What a run's data set, initial parameters and memory depend on; seeds are left out, so a
// sweep over seeds checks its data once (initial weights that are NaN for one seed and not for
// another are not a thing: NaN comes from the init's scale, which is in the key).
std::string shape_key(const Config& c) {
  Json j = to_json(c);
  j["data"]["seed"] = nullptr;
  return j["data"].dump() + j["model"].dump() + j["precision"].dump() +
         j["train"]["optimizer"].dump() + j["train"]["batch_size"].dump() + c.base_dir;
}

// One loaded copy of each data set the sweep uses, shared read-only by its runs (a 60000-image
// Fashion-MNIST set is 188 MB in float32: loading it per run cost time and, with --jobs,
// memory). A copy is dropped once the last pending run that uses it has finished.
class SharedData {
 public:
  std::shared_ptr<const Dataset> get(const Config& c) {
    std::shared_ptr<Entry> entry;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      std::shared_ptr<Entry>& slot = entries_[key(c)];
      if (!slot) slot = std::make_shared<Entry>();
      entry = slot;
    }
    std::lock_guard<std::mutex> guard(entry->load);  // one load; other users wait for it
    if (!entry->data) entry->data = std::make_shared<const Dataset>(build_dataset(c));
    return entry->data;
  }
  // Counts the pending runs of each data set; drops the copies no pending run uses.
  void expect(const std::vector<const RunSpec*>& pending) {
    std::lock_guard<std::mutex> guard(mutex_);
    for (const RunSpec* r : pending) ++uses_[key(r->config)];
    std::erase_if(entries_, [&](const auto& e) { return uses_[e.first] == 0; });
  }
  void release(const Config& c) {
    std::lock_guard<std::mutex> guard(mutex_);
    const std::string k = key(c);
    if (--uses_[k] <= 0) entries_.erase(k);  // runs still training keep their shared_ptr
  }

 private:
  struct Entry {
    std::mutex load;
    std::shared_ptr<const Dataset> data;
  };
  // What make_dataset reads: the data section with the seed it will use, the precision it holds
  // the data in, and the folder relative paths start from.
  static std::string key(const Config& c) {
    Json data = to_json(c)["data"];
    data["seed"] = dataset_uses_seed(c.data) ? Json(c.data.seed.value_or(c.seed)) : Json(nullptr);
    return data.dump() + std::string(precision_name(c.precision)) + "\n" +
           std::filesystem::path(c.source).parent_path().string();
  }
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  std::map<std::string, long> uses_;
};

// check_runs, optionally loading each data set through `shared` (a sweep keeps the copies
// for its runs).
std::size_t check_runs_with(const std::vector<RunSpec>& runs, CheckDepth depth,
                            SharedData* shared) {
  std::set<std::string> seen;
  for (const RunSpec& r : runs) {
    if (!seen.insert(shape_key(r.config)).second) continue;
    try {
      if (depth == CheckDepth::full)
        (void)prepare_run(r.config, shared ? shared->get(r.config) : nullptr);
      else
        check_run_memory(r.config);
    } catch (const InputError& e) {
      throw locate_in_sweep(r, e);
    }
  }
  return seen.size();
}

}  // namespace

std::size_t check_runs(const std::vector<RunSpec>& runs, CheckDepth depth) {
  return check_runs_with(runs, depth, nullptr);
}

SweepOutcome run_sweep(const SweepPlan& plan, const std::string& out_dir,
                       const SweepOptions& options, const SweepEvents& events) {
  const std::vector<RunSpec> selected =
      shard_runs(plan.runs, options.shard_index, options.shard_count);
  SharedData shared;
  check_runs_with(selected, CheckDepth::full, &shared);

  ensure_writable_dir(out_dir);
  const DirLock lock(out_dir);
  claim_results_folder(out_dir, FolderKind::sweep, options.force);
  remove_stale_temp_files(out_dir);
  remove_partial_copies(out_dir);
  std::vector<std::string> planned_ids;
  for (const RunSpec& r : plan.runs) planned_ids.push_back(r.id);
  refuse_or_remove_orphans(out_dir, planned_ids, options.force,
                           "Use --force to remove them (and rerun every run), or another --out");
  const SweepManifest manifest = manifest_from_plan(plan, options.shard_index, options.shard_count);
  write_file_atomic(out_dir + "/sweep.json", manifest_to_json(manifest).dump(2) + "\n");
  std::vector<ManifestRun> shard_manifest_runs;
  for (const RunSpec& r : selected) shard_manifest_runs.push_back(manifest.runs[r.index]);

  SweepOutcome outcome;
  outcome.selected = selected.size();
  std::vector<const RunSpec*> pending;
  for (const RunSpec& r : selected) {
    if (!options.force && run_finished(run_folder(out_dir, r.id)))
      ++outcome.skipped;
    else
      pending.push_back(&r);
  }
  shared.expect(pending);

  std::mutex mutex;  // guards outcome, events and the tables
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::size_t done = outcome.skipped;
  auto last_tables = std::chrono::steady_clock::now();
  const auto should_stop = [&] {
    if (stop.load()) return true;
    if (events.should_stop && events.should_stop()) stop.store(true);
    return stop.load();
  };

  auto worker = [&] {
    for (std::size_t i = next++; i < pending.size() && !should_stop(); i = next++) {
      const RunSpec& spec = *pending[i];
      RunOutcome result;
      std::string failure;
      try {
        result = execute_run(prepare_run(spec.config, shared.get(spec.config)),
                             run_folder(out_dir, spec.id),
                             [&](long step, long steps, double) {
                               if (events.on_step) events.on_step(spec, step, steps);
                               return !should_stop();
                             });
      } catch (const InputError& e) {
        failure = locate_in_sweep(spec, e).what();
      } catch (const std::exception& e) {
        failure = e.what();
      }
      shared.release(spec.config);
      if (events.on_step) events.on_step(spec, -1, spec.config.train.steps);
      std::lock_guard<std::mutex> guard(mutex);
      if (!failure.empty()) {
        outcome.failed.push_back({spec.id, spec.label, failure});
        continue;
      }
      if (result.interrupted) {
        outcome.interrupted = true;
        continue;
      }
      ++outcome.ran;
      ++done;
      if (events.on_run_done) events.on_run_done(spec, result, done, selected.size());
      // Keep the tables current without rewriting them after every short run.
      const auto now = std::chrono::steady_clock::now();
      if (now - last_tables > std::chrono::seconds(2)) {
        // Not fatal here (an exception would escape the thread): the final write below
        // reports a full disk or a lost folder to the caller.
        try {
          write_sweep_tables(out_dir, manifest, shard_manifest_runs);
        } catch (const std::exception&) {
        }
        last_tables = now;
      }
    }
  };

  const std::size_t jobs = std::max<std::size_t>(1, std::min(options.jobs, pending.size()));
  {
    std::vector<std::jthread> threads;
    for (std::size_t j = 0; j < jobs; ++j) threads.emplace_back(worker);
  }
  outcome.interrupted = outcome.interrupted || stop.load();
  outcome.tables = write_sweep_tables(out_dir, manifest, shard_manifest_runs);
  return outcome;
}

}  // namespace gradflow
