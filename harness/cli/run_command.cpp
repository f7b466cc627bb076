// `gradflow run` and `gradflow validate`.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "config.hpp"
#include "progress.hpp"
#include "run.hpp"
#include "tables.hpp"

namespace gradflow::cli {
namespace {

std::string default_out_dir(const Config& config) {
  return (std::filesystem::path("results") / "runs" / config.name).string();
}

}  // namespace

int validate_command(const RunOptions& options, const Verbosity& verbosity) {
  const Config config = load_config(options.config, options.overrides);
  const PreparedRun run = prepare_run(config);  // data files and init_from are checked too
  if (!verbosity.quiet)
    std::printf("%s: valid (%ld hidden layers, %zu parameters, %ld steps)\n",
                options.config.c_str(), config.model.depth, run.layout.parameter_count,
                config.train.steps);
  return kExitOk;
}

int run_command(const RunOptions& options, const Verbosity& verbosity) {
  const Config config = load_config(options.config, options.overrides);
  const PreparedRun run = prepare_run(config);
  const std::string out = options.out.empty() ? default_out_dir(config) : options.out;
  spdlog::info("{}: {} hidden layers, {} parameters, {} steps -> {}", config.name,
               config.model.depth, run.layout.parameter_count, config.train.steps, out);

  install_interrupt_handlers();
  RunOutcome outcome;
  {
    ProgressLine progress(config.name, !verbosity.quiet);
    outcome = execute_run(run, out, progress.fn());
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

}  // namespace gradflow::cli
