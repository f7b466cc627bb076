// gradflow's command line: parses arguments (CLI11), sets up logging (spdlog), dispatches to
// a subcommand, and is the only place that turns errors into messages and exit codes.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "errors.hpp"
#include "version.hpp"

namespace {

constexpr const char* kExamples = R"(Examples:
  gradflow run configs/quickstart.json
  gradflow run configs/quickstart.json --set model.depth=50 --set model.activation=tanh
  gradflow run configs/dying_relu_lr.json --out results/runs/dying
  gradflow validate configs/my_experiment.json
)";

void setup_logging(const gradflow::cli::Verbosity& v) {
  auto logger = spdlog::stderr_color_mt("gradflow");
  logger->set_pattern("gradflow: %^%l%$: %v");
  logger->set_level(v.quiet ? spdlog::level::err
                            : v.verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void add_run_options(CLI::App* cmd, gradflow::cli::RunOptions& o) {
  cmd->add_option("config", o.config, "Experiment config (JSON)")->required();
  cmd->add_option("--set", o.overrides,
                  "Override a config key: --set model.depth=50 (repeatable; value is JSON, "
                  "or a plain string)")
      ->type_name("KEY=VALUE");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gradflow::cli;
  CLI::App app{"gradflow: train deep networks and record per-layer gradient flow"};
  app.footer(kExamples);
  app.set_version_flag("--version", std::string("gradflow ") + gradflow::kVersion + " (" +
                                        gradflow::kGitRevision + ", " + gradflow::kCompiler + ")");
  Verbosity verbosity;
  app.add_flag("-q,--quiet", verbosity.quiet, "Only print errors");
  app.add_flag("-v,--verbose", verbosity.verbose, "Print debug messages");
  app.require_subcommand(1);
  app.fallthrough();  // -q / -v work after the subcommand too

  RunOptions run_options;
  CLI::App* run = app.add_subcommand("run", "Train the run a config describes and write its "
                                            "results folder");
  add_run_options(run, run_options);
  run->add_option("-o,--out", run_options.out, "Results folder (default: results/runs/<name>)");

  RunOptions validate_options;
  CLI::App* validate =
      app.add_subcommand("validate", "Check a config (and its data files) without running it");
  add_run_options(validate, validate_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  setup_logging(verbosity);
  try {
    if (*run) return run_command(run_options, verbosity);
    if (*validate) return validate_command(validate_options, verbosity);
  } catch (const gradflow::InputError& e) {
    spdlog::error("{}", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitBadInput;
  }
  return kExitUsage;
}
