// Joins shard folders (`gradflow run --shard i/n`) into one sweep folder with the same tables
// a single unsharded run gives.
#pragma once

#include <string>
#include <vector>

#include "run/sweep_output.hpp"

namespace gradflow {

struct MergeOutcome {
  std::size_t planned = 0;
  std::size_t copied = 0;             // run folders brought in from the shards
  TableStats tables;                  // finished / missing over the whole plan
};

// Every shard must carry the same plan (sweep.json run ids); a run finished in several shards
// is taken from the first. Copies run folders into out_dir/runs (out_dir may be one of the
// shards) and rewrites the manifest and tables. Throws InputError for unusable shards.
MergeOutcome merge_shards(const std::vector<std::string>& shard_dirs, const std::string& out_dir);

}  // namespace gradflow
