// `gradflow merge`: join shard folders into one sweep folder.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "commands.hpp"
#include "run/merge.hpp"

namespace gradflow::cli {

int merge_command(const MergeOptions& options, const Verbosity& verbosity) {
  const MergeOutcome m = merge_shards(options.shards, options.out);
  if (!verbosity.quiet)
    std::printf("merged into %s: %zu of %zu runs finished (%zu copied from shards)\n",
                options.out.c_str(), m.tables.finished, m.planned, m.copied);
  if (m.tables.missing.empty()) return kExitOk;
  std::string ids;
  for (const std::string& id : m.tables.missing) ids += (ids.empty() ? "" : ", ") + id;
  spdlog::warn("{} runs missing (rerun their shards, then merge again): {}",
               m.tables.missing.size(), ids);
  return kExitIncomplete;
}

}  // namespace gradflow::cli
