// The gradflow binary end to end: results folder contents, byte-identical reruns, divergence
// as a result, and bad input that names the file and JSON path, exits non-zero, writes nothing.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace gradflow;
namespace fs = std::filesystem;

namespace {

const char* kSmallConfig = R"({
  "name": "cli-small",
  "seed": 5,
  "data": {"kind": "gaussian_mixture", "train_size": 256, "probe_size": 64, "dim": 8, "classes": 3},
  "model": {"depth": 3, "width": 16, "activation": "tanh", "init": "xavier_normal"},
  "train": {"steps": 30, "batch_size": 32, "lr": 0.05, "optimizer": "momentum"},
  "log": {"every": 10}
})";

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

TEST_CASE("gradflow run writes a complete results folder", "[cli]") {
  test::TempDir dir("cli-run");
  test::write_text(dir.file("c.json"), kSmallConfig);
  const test::CliResult r = test::gradflow_cli("run " + dir.file("c.json") + " --out " + dir.file("out"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  REQUIRE(r.output.find("results in " + dir.file("out")) != std::string::npos);
  REQUIRE(r.output.find("grad_w@0") != std::string::npos);
  for (const char* f : {"config.json", "layers.csv", "steps.csv", "summary.json"})
    REQUIRE(fs::exists(dir.file(std::string("out/") + f)));

  const std::string layers = test::read_text(dir.file("out/layers.csv"));
  REQUIRE(first_line(layers) ==
          "step,layer,kind,fan_in,fan_out,grad_w_norm,grad_b_norm,delta_norm,weight_norm,"
          "bias_norm,update_ratio,preact_mean,preact_std,act_mean,act_std,dead_fraction,"
          "inactive_fraction,saturated_fraction,theory_delta_log10,theory_grad_w_log10,slope_mean,"
          "slope_min,gate,batch_dead_fraction,window_dead_units,c_in,c_out,kernel,stride,height,"
          "width");
  // 4 logged steps (0, 10, 20, 30) x 4 layers, plus the header.
  REQUIRE(std::count(layers.begin(), layers.end(), '\n') == 17);
  const std::string steps = test::read_text(dir.file("out/steps.csv"));
  REQUIRE(first_line(steps) ==
          "step,lr,loss,accuracy,probe_loss,probe_accuracy,grad_norm,clipped");

  const auto summary = nlohmann::json::parse(test::read_text(dir.file("out/summary.json")));
  REQUIRE(summary["status"] == "completed");
  REQUIRE(summary["steps_done"] == 30);
  const auto config = nlohmann::json::parse(test::read_text(dir.file("out/config.json")));
  REQUIRE(config["model"]["depth"] == 3);
  REQUIRE(config["train"]["momentum"] == 0.9);  // defaults are filled in
  REQUIRE(config["provenance"]["seed"] == 5);

  // The resolved config reproduces the run byte for byte.
  const test::CliResult again =
      test::gradflow_cli("run " + dir.file("out/config.json") + " --out " + dir.file("again") + " -q");
  INFO(again.output);
  REQUIRE(again.code == 0);
  REQUIRE(test::read_text(dir.file("again/layers.csv")) == layers);
  REQUIRE(test::read_text(dir.file("again/steps.csv")) == steps);
  REQUIRE(test::read_text(dir.file("again/summary.json")) ==
          test::read_text(dir.file("out/summary.json")));
}

TEST_CASE("overrides with --set reach any key by its dotted path", "[cli]") {
  test::TempDir dir("cli-set");
  test::write_text(dir.file("c.json"), kSmallConfig);
  const test::CliResult r = test::gradflow_cli("run " + dir.file("c.json") + " --out " + dir.file("out") +
                                " --set model.depth=5 --set model.activation=relu -q");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto config = nlohmann::json::parse(test::read_text(dir.file("out/config.json")));
  REQUIRE(config["model"]["depth"] == 5);
  REQUIRE(config["model"]["activation"] == "relu");
}

TEST_CASE("an override given before the config takes one value, so the config is still found",
          "[cli]") {
  test::TempDir dir("cli-set-first");
  test::write_text(dir.file("c.json"), kSmallConfig);
  const test::CliResult r = test::gradflow_cli("run --set model.depth=4 " + dir.file("c.json") +
                                               " --out " + dir.file("out") + " -q");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto config = nlohmann::json::parse(test::read_text(dir.file("out/config.json")));
  REQUIRE(config["model"]["depth"] == 4);
}

TEST_CASE("a diverging run exits 0 with complete files marked diverged", "[cli]") {
  test::TempDir dir("cli-diverge");
  test::write_text(dir.file("c.json"), kSmallConfig);
  const test::CliResult r = test::gradflow_cli("run " + dir.file("c.json") + " --out " + dir.file("out") +
                                " --set train.lr=1e9 --set model.activation=relu");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto summary = nlohmann::json::parse(test::read_text(dir.file("out/summary.json")));
  REQUIRE(summary["status"] == "diverged");
  REQUIRE(summary["diverged_step"].get<long>() >= 1);
  const std::string steps = test::read_text(dir.file("out/steps.csv"));
  REQUIRE(steps.find("nan") != std::string::npos);
}

TEST_CASE("bad input: a clear message naming file and JSON path, exit 1, nothing written",
          "[cli]") {
  struct Case {
    const char* name;
    const char* config;
    const char* message;
  };
  const Case cases[] = {
      {"negative depth", R"({"model": {"depth": -3}})",
       "/model/depth: expected an integer >= 1, got -3"},
      {"misspelt key", R"({"model": {"actvation": "relu"}})", "did you mean \"activation\""},
      {"unknown activation", R"({"model": {"activation": "rleu"}})", "leaky_relu"},
      {"width list length", R"({"model": {"depth": 3, "width": [8, 8]}})", "/model/width"},
      {"batch larger than data", R"({"data": {"train_size": 16}, "train": {"batch_size": 32}})",
       "/train/batch_size"},
      {"zero learning rate", R"({"train": {"lr": 0}})", "/train/lr"},
      {"malformed JSON", "{\n  \"seed\": 1,\n  \"model\": {\"depth\": }\n}", "line 3"},
      {"missing csv file", R"({"data": {"kind": "csv", "path": "nope.csv", "label_column": "y"}})",
       "/data/path"},
      {"unknown section", R"({"modle": {}})", "did you mean \"model\""},
  };
  for (const Case& c : cases) {
    test::TempDir dir("cli-bad");
    test::write_text(dir.file("bad.json"), c.config);
    const test::CliResult r = test::gradflow_cli("run " + dir.file("bad.json") + " --out " + dir.file("out"));
    INFO(c.name << ": " << r.output);
    REQUIRE(r.code == 1);
    REQUIRE(r.output.find(dir.file("bad.json")) != std::string::npos);
    REQUIRE(r.output.find(c.message) != std::string::npos);
    REQUIRE_FALSE(fs::exists(dir.file("out")));
  }
}

TEST_CASE("usage errors and missing files", "[cli]") {
  REQUIRE(test::gradflow_cli("").code == 2);
  REQUIRE(test::gradflow_cli("frobnicate").code == 2);
  const test::CliResult missing = test::gradflow_cli("run /nonexistent/config.json");
  INFO(missing.output);
  REQUIRE(missing.code == 1);
  REQUIRE(missing.output.find("/nonexistent/config.json") != std::string::npos);
  const test::CliResult version = test::gradflow_cli("--version");
  REQUIRE(version.code == 0);
  REQUIRE(version.output.find("gradflow") != std::string::npos);
}

TEST_CASE("an output folder that cannot be written is an error, not a crash", "[cli]") {
  test::TempDir dir("cli-unwritable");
  test::write_text(dir.file("c.json"), kSmallConfig);
  test::write_text(dir.file("file"), "not a folder");
  const test::CliResult r = test::gradflow_cli("run " + dir.file("c.json") + " --out " + dir.file("file/out"));
  INFO(r.output);
  REQUIRE(r.code == 1);
  REQUIRE(r.output.find(dir.file("file/out")) != std::string::npos);
}
