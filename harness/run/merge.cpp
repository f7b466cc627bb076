// Shard merging; see merge.hpp.
#include "run/merge.hpp"

#include <filesystem>

#include "base/atomic_file.hpp"
#include "base/dir_lock.hpp"
#include "base/errors.hpp"
#include "run/results_folder.hpp"

namespace gradflow {
namespace fs = std::filesystem;

namespace {

bool same_plan(const SweepManifest& a, const SweepManifest& b) {
  if (a.runs.size() != b.runs.size() || a.swept_keys != b.swept_keys) return false;
  for (std::size_t i = 0; i < a.runs.size(); ++i)
    if (a.runs[i].id != b.runs[i].id) return false;
  return true;
}

// Copies a finished run folder to `to` through a temp folder and a rename, so the result is
// either absent or complete: a copy cut short (a full disk) is removed and reported.
void copy_run(const std::string& from, const std::string& to) {
  const std::string temp = to + ".partial";
  std::error_code ec;
  fs::remove_all(temp, ec);
  fs::copy(from, temp, fs::copy_options::recursive, ec);
  if (!ec && !run_finished(temp)) ec = std::make_error_code(std::errc::io_error);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
    throw InputError(to, "", "cannot copy run folder from " + from + ": " + ec.message());
  }
  fs::remove_all(to, ec);
  fs::rename(temp, to, ec);
  if (ec) throw InputError(to, "", "cannot move run folder into place: " + ec.message());
}

}  // namespace

MergeOutcome merge_shards(const std::vector<std::string>& shard_dirs, const std::string& out_dir) {
  if (shard_dirs.empty()) throw InputError("merge", "", "expected at least one shard folder");
  std::vector<SweepManifest> manifests;
  for (const std::string& dir : shard_dirs) {
    manifests.push_back(read_manifest(dir));
    if (!same_plan(manifests.front(), manifests.back()))
      throw InputError(dir + "/sweep.json", "",
                       "this shard belongs to a different sweep than " + shard_dirs.front() +
                           " (its run ids differ)");
  }
  SweepManifest merged = manifests.front();
  merged.shard_index = 0;
  merged.shard_count = 1;

  ensure_writable_dir(out_dir);
  const DirLock lock(out_dir);
  claim_results_folder(out_dir, FolderKind::sweep, false);  // never over a single run's folder
  remove_partial_copies(out_dir);
  std::vector<std::string> planned_ids;
  for (const ManifestRun& r : merged.runs) planned_ids.push_back(r.id);
  refuse_or_remove_orphans(out_dir, planned_ids, false,
                           "Merge into another --out, or remove them");
  MergeOutcome outcome;
  outcome.planned = merged.runs.size();
  for (const ManifestRun& r : merged.runs) {
    const std::string target = run_folder(out_dir, r.id);
    if (run_finished(target)) continue;
    for (const std::string& dir : shard_dirs) {
      const std::string source = run_folder(dir, r.id);
      std::error_code same_ec;
      if (fs::equivalent(fs::path(dir), fs::path(out_dir), same_ec)) continue;
      require_complete_or_absent(source);  // never take a run cut short for a finished one
      if (run_finished(source)) {
        fs::create_directories(out_dir + "/runs");
        copy_run(source, target);
        ++outcome.copied;
        break;
      }
    }
  }
  write_file_atomic(out_dir + "/sweep.json", manifest_to_json(merged).dump(2) + "\n");
  outcome.tables = write_sweep_tables(out_dir, merged, merged.runs);
  return outcome;
}

}  // namespace gradflow
