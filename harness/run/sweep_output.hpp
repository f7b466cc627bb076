// A sweep's folder: sweep.json (the manifest: every planned run's id, label and swept values)
// and the tables built from finished run folders (runs.csv, layers.csv, steps.csv,
// lifecycle.csv), each with run_id first so pandas loads a whole sweep in one call.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/sweep.hpp"

namespace gradflow {

struct ManifestRun {
  std::size_t index = 0;
  std::string id;
  std::string label;
  Json swept;  // {"model.depth": 16, ...}
};

struct SweepManifest {
  std::string name;
  std::vector<std::string> swept_keys;
  std::vector<ManifestRun> runs;  // the whole plan, whatever the shard
  std::size_t shard_index = 0, shard_count = 1;
  // The verdict thresholds of the last `run` (or merge) that wrote the folder: runs.csv's
  // verdicts, and summarize's, report's and compare's by default (analysis/rejudge.hpp).
  VerdictConfig verdict;
};

SweepManifest manifest_from_plan(const SweepPlan& plan, std::size_t shard_index,
                                 std::size_t shard_count);
Json manifest_to_json(const SweepManifest& m);
// Throws InputError naming the file when it is missing or malformed.
SweepManifest read_manifest(const std::string& sweep_dir);

std::string run_folder(const std::string& sweep_dir, const std::string& id);

// A run folder is finished when its summary.json exists and parses (it is written last).
bool run_finished(const std::string& run_dir);

// Columns of runs.csv after run_id, label and the swept keys.
extern const std::vector<std::string_view> kRunSummaryColumns;

struct TableStats {
  std::size_t finished = 0;
  std::vector<std::string> missing;  // ids of planned runs (of `runs`) without results
};

// Rewrites the four tables from the finished folders among `runs`, in plan order (so the
// bytes do not depend on which run finished first), each file atomically. Each run's verdict
// is judged again from its summary.json with manifest.verdict: a rerun that skips finished
// runs labels them with the thresholds in force, not those they were trained with.
TableStats write_sweep_tables(const std::string& sweep_dir, const SweepManifest& manifest,
                              const std::vector<ManifestRun>& runs);

}  // namespace gradflow
