// The config front end as one call, shared by the libFuzzer target (fuzz/config_fuzzer.cpp)
// and the regression test that replays every input in fuzz/regressions/ (tests/test_fuzz.cpp):
// JSON text -> --set overrides -> validation -> sweep expansion -> work estimate, the path
// `gradflow run` and `gradflow plan` take before any training.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/config_reader.hpp"
#include "config/model_config.hpp"
#include "base/errors.hpp"
#include "run/plan.hpp"
#include "config/sweep.hpp"

namespace gradflow::fuzz {

inline constexpr std::size_t kMaxOverrides = 8;
// Expansion is linear in the runs (~1.4 ms of CPU per run under ASan + UBSan + coverage), so a
// 10^5-run sweep (the real limit) would take minutes; a lower limit exercises the same
// refusal and keeps every input well under the fuzzer's timeout.
inline constexpr std::size_t kMaxFuzzRuns = 300;

// The config text, then NUL-separated --set assignments ("{...}\0model.depth=3\0sweep.seeds=2"),
// so overrides are fuzzed together with the file.
inline std::vector<std::string> split_input(std::string_view input) {
  std::vector<std::string> parts;
  for (std::size_t start = 0; parts.size() <= kMaxOverrides;) {
    const std::size_t nul = input.find('\0', start);
    parts.emplace_back(input.substr(start, nul == std::string_view::npos ? nul : nul - start));
    if (nul == std::string_view::npos) break;
    start = nul + 1;
  }
  return parts;
}

[[noreturn]] inline void invariant_broken(const char* what, const std::string& detail) {
  std::fprintf(stderr, "config front end: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// Only data files next to the config: an absolute path could name /dev/zero, which the loader
// would rightly read up to its 1 GiB limit (slow, not a bug).
inline bool loads_only_local_files(const SweepPlan& plan) {
  for (const RunSpec& run : plan.runs) {
    const DataConfig& d = run.config.data;
    if (d.kind == DataKind::csv && d.path.find('/') != std::string::npos) return false;
  }
  return true;
}

inline void check_run(const RunSpec& run) {
  // The resolved config reads back to itself (a run folder's config.json relies on it) ...
  const Json resolved = to_json(run.config);
  const Config again = parse_config(resolved, run.config.source);
  if (to_json(again) != resolved) invariant_broken("to_json round trip changed", resolved.dump());
  // ... to the same layer stack (config.json records it; the network is built from it) ...
  if (layers_to_json(model_layers(again.model)) != layers_to_json(model_layers(run.config.model)))
    invariant_broken("the layer stack changed in the round trip", resolved.dump());
  // ... and its id depends on the settings only.
  if (run_id(again) != run.id) invariant_broken("run id is not stable", resolved.dump());
}

// Runs the front end on `input` as if read from the file `source`. Bad input ends in an
// InputError, which is returned (empty when the input was valid); any other exception escapes,
// and a broken invariant aborts: both are bugs.
inline std::string run_front_end(std::string_view input, const std::string& source) {
  const std::vector<std::string> parts = split_input(input);
  try {
    Json doc = parse_json_text(parts.front(), source);
    for (std::size_t i = 1; i < parts.size(); ++i) apply_override(doc, parts[i]);
    const SweepPlan plan = expand_sweep(doc, source, kMaxFuzzRuns);
    if (plan.runs.empty()) invariant_broken("a plan with no runs", doc.dump());
    for (std::size_t i = 0; i < plan.runs.size() && i < 4; ++i) check_run(plan.runs[i]);
    if (loads_only_local_files(plan)) (void)estimate_work(plan.runs);
  } catch (const InputError& e) {
    if (std::string_view(e.what()).empty()) invariant_broken("an InputError without text", "");
    return e.what();
  }
  return {};
}

}  // namespace gradflow::fuzz
