// Results folder kinds and cleaning; see results_folder.hpp.
#include "run/results_folder.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/errors.hpp"

namespace gradflow {
namespace fs = std::filesystem;
namespace {

// What each kind writes at its top level (CSV tables are written by both kinds).
const char* const kRunEntries[] = {"config.json", "summary.json", "params_init", "params_final"};
const char* const kSweepEntries[] = {"sweep.json", "runs"};
const char* const kRunFiles[] = {"config.json", "summary.json", "steps.csv", "layers.csv",
                                 "lifecycle.csv", "report.html"};
const char* const kSweepFiles[] = {"sweep.json", "runs.csv", "steps.csv", "layers.csv",
                                   "lifecycle.csv", "report.html"};

bool present(const std::string& dir, const char* name) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(fs::path(dir) / name, ec));
}

std::string listed(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

void remove_entry(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) throw InputError(path.string(), "", "cannot remove: " + ec.message());
}

}  // namespace

FolderContents inspect_results_folder(const std::string& dir) {
  FolderContents c;
  for (const char* name : kSweepEntries)
    if (present(dir, name)) c.evidence.push_back(std::string(name) + (name[0] == 'r' ? "/" : ""));
  if (!c.evidence.empty()) {
    c.kind = FolderKind::sweep;
    return c;
  }
  for (const char* name : kRunEntries)
    if (present(dir, name)) c.evidence.push_back(std::string(name) + (name[0] == 'p' ? "/" : ""));
  if (!c.evidence.empty()) c.kind = FolderKind::run;
  return c;
}

void claim_results_folder(const std::string& dir, FolderKind kind, bool force) {
  const FolderContents c = inspect_results_folder(dir);
  if (c.kind == FolderKind::empty || c.kind == kind) return;
  const bool holds_sweep = c.kind == FolderKind::sweep;
  if (!force)
    throw InputError(dir, "",
                     std::string("this folder holds ") + (holds_sweep ? "a sweep" : "a single run") +
                         " (" + listed(c.evidence) + "); " +
                         (holds_sweep ? "a single run" : "a sweep") +
                         " would overwrite or mix with its results. Use another --out, or "
                         "--force to replace them");
  if (holds_sweep) {
    for (const char* name : kSweepFiles) remove_entry(fs::path(dir) / name);
    remove_entry(fs::path(dir) / "runs");
  } else {
    clear_run_folder(dir);
  }
}

void clear_run_folder(const std::string& dir) {
  for (const char* name : kRunFiles) remove_entry(fs::path(dir) / name);
  for (const char* name : {"params_init", "params_final"}) remove_entry(fs::path(dir) / name);
  remove_stale_temp_files(dir);
}

void remove_stale_temp_files(const std::string& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::size_t at = name.rfind(".tmp.");
    if (at != std::string::npos && at + 5 < name.size() &&
        name.find_first_not_of("0123456789", at + 5) == std::string::npos) {
      std::error_code ignored;  // a file that cannot be removed is only clutter
      fs::remove(it->path(), ignored);
    }
  }
}

void remove_partial_copies(const std::string& dir) {
  std::vector<fs::path> partial;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(dir) / "runs", ec), end; !ec && it != end;
       it.increment(ec))
    if (it->path().extension() == ".partial") partial.push_back(it->path());
  for (const fs::path& p : partial) remove_entry(p);
}

std::vector<std::string> orphan_run_folders(const std::string& dir,
                                            const std::vector<std::string>& ids) {
  const std::set<std::string> planned(ids.begin(), ids.end());
  std::vector<std::string> orphans;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(dir) / "runs", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->path().extension() == ".partial" || planned.count(name)) continue;
    orphans.push_back(name);
  }
  std::sort(orphans.begin(), orphans.end());
  return orphans;
}

void refuse_or_remove_orphans(const std::string& dir, const std::vector<std::string>& ids,
                              bool remove, const std::string& remedy) {
  const std::vector<std::string> orphans = orphan_run_folders(dir, ids);
  if (orphans.empty()) return;
  if (!remove) {
    std::string listed_ids;
    for (std::size_t i = 0; i < orphans.size() && i < 10; ++i)
      listed_ids += (i ? ", " : "") + orphans[i];
    if (orphans.size() > 10) listed_ids += ", ...";
    throw InputError(dir + "/runs", "",
                     std::to_string(orphans.size()) + " run folder" +
                         (orphans.size() == 1 ? " is" : "s are") + " not in this sweep's plan (" +
                         listed_ids +
                         "): results of an earlier, different sweep, which its tables would "
                         "leave out. " + remedy);
  }
  for (const std::string& id : orphans) remove_entry(fs::path(dir) / "runs" / id);
}

}  // namespace gradflow
