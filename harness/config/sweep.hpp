// Sweep expansion: a config's `sweep` section (a grid of dotted keys -> value lists, zip groups
// and seed repetition) becomes a list of fully resolved, validated runs, each with a stable id.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/errors.hpp"
#include "config/config.hpp"

namespace gradflow {

// One swept key and the value it takes in a run, e.g. {"model.depth", 16}.
struct SweptValue {
  std::string key;
  Json value;
  std::string path;  // the sweep entry that set it: "/sweep/model.depth/2", "/sweep/seeds"
  std::string label;  // the value in the run's label (config/run_label.hpp): "relu", "0.1"
};

struct RunSpec {
  std::size_t index = 0;  // position in the expansion order (grid order, then seeds)
  std::string id;         // run_id(config): stable across machines and sweep edits
  std::string label;      // readable swept values: "depth=16/activation=relu/seed=2"
  std::vector<SweptValue> swept;
  Config config;  // resolved and validated; config.name is the sweep's name
};

struct SweepPlan {
  std::string name;
  std::vector<std::string> swept_keys;  // column order of runs.csv
  std::vector<RunSpec> runs;            // a config without `sweep` gives exactly one run
  bool is_sweep = false;                // the config had a `sweep` section
};

// Refuses expansions larger than this before doing any work (the message gives the count).
inline constexpr std::size_t kMaxSweepRuns = 100000;

// Expands `doc` (a whole config, --set overrides already applied) read from `source`.
// Every key must be a valid dotted config path and every value valid for its key; errors name
// the sweep entry ("/sweep/model.depth/2") and what was expected. Duplicate run ids (two grid
// points that resolve to the same config) are an error too. `max_runs` is lowered only by the
// fuzzer, whose sanitized build would spend minutes on a legal 10^5-run expansion.
SweepPlan expand_sweep(const Json& doc, const std::string& source,
                       std::size_t max_runs = kMaxSweepRuns);

// `e`, raised while preparing `run` (its data file, its memory, its init_from), addressed to
// the sweep entry behind it when it concerns a swept key: "c.json: /sweep/data.path/1:
// data.path = "b.csv": /data/path: cannot read ...". Otherwise `e` unchanged.
InputError locate_in_sweep(const RunSpec& run, const InputError& e);

// 12 hex digits of a 64-bit FNV-1a hash of the resolved config (to_json without `name`,
// `sweep` and provenance): same settings -> same id, on every machine.
std::string run_id(const Config& config);

// Shard i of n (0-based): the runs whose index % n == i, in order.
std::vector<RunSpec> shard_runs(const std::vector<RunSpec>& runs, std::size_t i, std::size_t n);

}  // namespace gradflow
