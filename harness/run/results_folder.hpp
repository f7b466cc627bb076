// What a results folder holds, and the rules that keep one from mixing results: a folder is of
// one kind, a single run or a sweep; a run folder is cleared before a run writes into it; temp
// files a killed process left are removed. Call these with the folder's DirLock held.
#pragma once

#include <string>
#include <vector>

namespace gradflow {

enum class FolderKind { empty, run, sweep };

struct FolderContents {
  FolderKind kind = FolderKind::empty;
  std::vector<std::string> evidence;  // the entries that decided the kind ("sweep.json", "runs/")
};

// Looks only for gradflow's own entries: a sweep has sweep.json or runs/, a run config.json,
// summary.json or params_*/. Other files do not count (a folder of the user's is "empty").
FolderContents inspect_results_folder(const std::string& dir);

// Refuses (InputError naming `dir`, what is there and how to proceed: --force or another --out)
// when `dir` holds results of the other kind; with `force`, removes those results first.
void claim_results_folder(const std::string& dir, FolderKind kind, bool force);

// Removes every file a run writes (CSVs, config.json, summary.json, params_*/, report.html) and
// stale temp files, so a rerun starts from a clean folder and an interrupted one leaves nothing
// that could pass for results.
void clear_run_folder(const std::string& dir);

// Removes "<file>.tmp.<pid>" files (see atomic_file.hpp) that a process killed mid-write left
// in `dir` (not below it); with the folder's lock held, no live process owns them.
void remove_stale_temp_files(const std::string& dir);

// Removes the "<id>.partial" folders in dir/runs that a merge killed mid-copy (or cut short by
// a full disk) left; with the folder's lock held, none is live.
void remove_partial_copies(const std::string& dir);

// Folders in dir/runs that are not among `ids` (results of an earlier, different sweep), by name;
// "<id>.partial" folders of an interrupted merge are left out (merge removes them).
std::vector<std::string> orphan_run_folders(const std::string& dir, const std::vector<std::string>& ids);

// Run folders of an earlier, different sweep would sit beside this one's without being in its
// tables: refused (InputError naming dir/runs, the ids, and `remedy`), or removed when `remove`.
void refuse_or_remove_orphans(const std::string& dir, const std::vector<std::string>& ids,
                              bool remove, const std::string& remedy);

}  // namespace gradflow
