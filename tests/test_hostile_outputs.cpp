// Hostile inputs, round 2 (issue 11), through the binary: output overwritten, mixed or stale
// (class 2), output lost silently (4) and the stale report and orphaned runs of issue 16. Each
// case asserts the exit code, the message naming the folder, and what is on disk after.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "hostile_support.hpp"

namespace fs = std::filesystem;
using gradflow::test::contains;
using gradflow::test::require_result;
using gradflow::test::snapshot;
using gradflow::test::write_json;
namespace test = gradflow::test;

namespace {

nlohmann::json small_run(long steps = 10) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "name": "h2o", "seed": 7,
    "data": {"kind": "gaussian_mixture", "train_size": 64, "probe_size": 16, "dim": 4,
             "classes": 3},
    "model": {"depth": 2, "width": 8},
    "train": {"batch_size": 16},
    "log": {"every": 5}
  })");
  j["train"]["steps"] = steps;
  return j;
}

nlohmann::json small_sweep(const std::vector<double>& lrs) {
  nlohmann::json j = small_run();
  j["sweep"] = {{"train.lr", lrs}};
  return j;
}

}  // namespace

TEST_CASE("a results folder is of one kind: run and sweep refuse each other's folder",
          "[hostile2]") {
  test::TempDir dir("h2-kind");
  const std::string run = write_json(dir, small_run(), "r.json");
  const std::string sweep = write_json(dir, small_sweep({0.01, 0.02}), "s.json");
  const std::string run_out = dir.file("run"), sweep_out = dir.file("sweep");
  REQUIRE(test::gradflow_cli("run -q " + run + " --out " + run_out).code == 0);
  REQUIRE(test::gradflow_cli("run -q " + sweep + " --out " + sweep_out).code == 0);
  const auto run_files = snapshot(run_out), sweep_files = snapshot(sweep_out);

  require_result(test::gradflow_cli("run " + run + " --out " + sweep_out), 1,
                 {sweep_out + ": this folder holds a sweep (sweep.json, runs/)", "--force",
                  "another --out"});
  REQUIRE(snapshot(sweep_out) == sweep_files);
  require_result(test::gradflow_cli("run " + sweep + " --out " + run_out), 1,
                 {run_out + ": this folder holds a single run (config.json, summary.json)",
                  "--force"});
  REQUIRE(snapshot(run_out) == run_files);
  require_result(test::gradflow_cli("merge " + sweep_out + " --out " + run_out), 1,
                 {run_out + ": this folder holds a single run"});
  REQUIRE(snapshot(run_out) == run_files);

  // --force replaces the other kind's results, leaving only this kind's.
  REQUIRE(test::gradflow_cli("run -q " + run + " --force --out " + sweep_out).code == 0);
  REQUIRE_FALSE(fs::exists(sweep_out + "/sweep.json"));
  REQUIRE_FALSE(fs::exists(sweep_out + "/runs"));
  REQUIRE_FALSE(fs::exists(sweep_out + "/runs.csv"));
  REQUIRE(snapshot(sweep_out) == run_files);
  REQUIRE(test::gradflow_cli("run -q " + sweep + " --force --out " + run_out).code == 0);
  REQUIRE_FALSE(fs::exists(run_out + "/config.json"));
  REQUIRE_FALSE(fs::exists(run_out + "/summary.json"));
  REQUIRE(snapshot(run_out) == sweep_files);
}

TEST_CASE("a rerun starts from a clean run folder: stale files, temp files, reports go",
          "[hostile2]") {
  test::TempDir dir("h2-clean");
  nlohmann::json with_params = small_run();
  with_params["log"]["save_params"] = true;
  const std::string first = write_json(dir, with_params, "first.json");
  const std::string second = write_json(dir, small_run(), "second.json");
  const std::string out = dir.file("out");
  REQUIRE(test::gradflow_cli("run -q " + first + " --out " + out).code == 0);
  REQUIRE(test::gradflow_cli("report " + out).code == 0);
  // What a kill -9 mid-write leaves, in the folder and in a parameter folder.
  test::write_text(out + "/layers.csv.tmp.4242", "half");
  test::write_text(out + "/params_init/W1.npy.tmp.4242", "half");
  REQUIRE(test::gradflow_cli("run -q " + second + " --out " + out).code == 0);
  REQUIRE(snapshot(out) == snapshot([&] {
            REQUIRE(test::gradflow_cli("run -q " + second + " --out " + dir.file("alone")).code ==
                    0);
            return dir.file("alone");
          }()));
  REQUIRE_FALSE(fs::exists(out + "/report.html"));
  REQUIRE_FALSE(fs::exists(out + "/params_init"));
  REQUIRE_FALSE(fs::exists(out + "/layers.csv.tmp.4242"));
}

TEST_CASE("SIGTERM during a rerun leaves none of the previous run's results", "[hostile2]") {
  test::TempDir dir("h2-sigterm");
  const std::string out = dir.file("out");
  REQUIRE(test::gradflow_cli("run -q " + write_json(dir, small_run(), "a.json") + " --out " + out)
              .code == 0);
  REQUIRE(fs::exists(out + "/config.json"));
  nlohmann::json slow = small_run(2000000);
  slow["log"]["every"] = 100000;
  const std::string config = write_json(dir, slow, "slow.json");
  const std::string pid_file = dir.file("pid"), rc_file = dir.file("rc");
  const std::string command = "(" + std::string(GRADFLOW_BINARY) + " run -q " + config +
                              " --out " + out + " > /dev/null 2>&1 & echo $! > " + pid_file +
                              "; wait $!; echo $? > " + rc_file + ") &";
  REQUIRE(std::system(command.c_str()) == 0);
  const auto start = std::chrono::steady_clock::now();
  // Training has begun once the old files are cleared (the lock is held by then).
  while ((fs::exists(out + "/config.json") || !fs::exists(pid_file)) &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  REQUIRE(std::system(("kill -TERM $(cat " + pid_file + ")").c_str()) == 0);
  while (!fs::exists(rc_file) && std::chrono::steady_clock::now() - start < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(test::read_text(rc_file) == "130\n");
  for (const char* name : {"config.json", "summary.json", "layers.csv", "steps.csv",
                           "lifecycle.csv"}) {
    INFO(name);
    REQUIRE_FALSE(fs::exists(out + "/" + name));
  }
}

TEST_CASE("merge fails naming an incomplete run; a partial copy is removed", "[hostile2]") {
  test::TempDir dir("h2-merge");
  const std::string sweep = write_json(dir, small_sweep({0.01, 0.02, 0.03, 0.04}), "s.json");
  const std::string shard = dir.file("shard"), merged = dir.file("merged");
  REQUIRE(test::gradflow_cli("run -q " + sweep + " --out " + shard).code == 0);
  std::vector<std::string> ids;
  for (const auto& e : fs::directory_iterator(shard + "/runs")) ids.push_back(e.path().filename());
  std::sort(ids.begin(), ids.end());
  REQUIRE(ids.size() == 4);
  // A run folder cut short: summary.json but no layers.csv.
  fs::remove(shard + "/runs/" + ids[1] + "/layers.csv");
  fs::create_directories(merged + "/runs/" + ids[0] + ".partial");
  require_result(test::gradflow_cli("merge " + shard + " --out " + merged), 1,
                 {shard + "/runs/" + ids[1] + ": incomplete run folder: summary.json is there "
                                              "but layers.csv is not"});
  REQUIRE_FALSE(fs::exists(merged + "/runs/" + ids[1]));
  REQUIRE_FALSE(fs::exists(merged + "/runs/" + ids[0] + ".partial"));
  REQUIRE_FALSE(fs::exists(merged + "/layers.csv"));  // no table that leaves a run out
  // The sweep folder itself: its tables are never written without the run's rows; a rerun
  // redoes the incomplete run.
  const gradflow::test::CliResult rerun = test::gradflow_cli("run " + sweep + " --out " + shard);
  require_result(rerun, 0, {"4 runs finished (1 ran now, 3 already done)"});
  REQUIRE(fs::exists(shard + "/runs/" + ids[1] + "/layers.csv"));
  require_result(test::gradflow_cli("merge " + shard + " --out " + merged), 0,
                 {"4 of 4 runs finished"});
}

TEST_CASE("run folders of an earlier sweep are listed and refused; --force removes them",
          "[hostile2]") {
  test::TempDir dir("h2-orphans");
  const std::string out = dir.file("out");
  REQUIRE(test::gradflow_cli("run -q " + write_json(dir, small_sweep({0.01, 0.02}), "a.json") +
                             " --out " + out).code == 0);
  REQUIRE(test::gradflow_cli("report " + out).code == 0);
  const auto before = snapshot(out);
  const std::string changed = write_json(dir, small_sweep({0.01, 0.03}), "b.json");
  const test::CliResult refused = test::gradflow_cli("run " + changed + " --out " + out);
  require_result(refused, 1, {out + "/runs: 1 run folder is not in this sweep's plan (",
                              "--force to remove them", "another --out"});
  REQUIRE(snapshot(out) == before);  // nothing run, nothing removed
  // merge into the folder of another sweep is refused the same way.
  const std::string other = dir.file("other");
  REQUIRE(test::gradflow_cli("run -q " + changed + " --out " + other).code == 0);
  require_result(test::gradflow_cli("merge " + other + " --out " + out), 1,
                 {out + "/runs: 1 run folder is not in this sweep's plan (",
                  "Merge into another --out"});
  REQUIRE(snapshot(out) == before);

  // Adding a value keeps every earlier run: no orphan, they resume; the report goes stale.
  const std::string grown = write_json(dir, small_sweep({0.01, 0.02, 0.03}), "c.json");
  require_result(test::gradflow_cli("run " + grown + " --out " + out), 0,
                 {"3 runs finished (1 ran now, 2 already done)"});
  REQUIRE_FALSE(fs::exists(out + "/report.html"));

  require_result(test::gradflow_cli("run -q " + changed + " --force --out " + out), 0, {});
  std::size_t folders = 0;
  for (const auto& e : fs::directory_iterator(out + "/runs")) folders += e.is_directory();
  REQUIRE(folders == 2);
  // A rerun that changes nothing keeps a report built from the same tables.
  REQUIRE(test::gradflow_cli("report " + out).code == 0);
  require_result(test::gradflow_cli("run " + changed + " --out " + out), 0,
                 {"2 runs finished (0 ran now, 2 already done)"});
  REQUIRE(fs::exists(out + "/report.html"));
}

TEST_CASE("stdout on a full device: every command exits 1 with a message", "[hostile2]") {
  test::TempDir dir("h2-full");
  const std::string run = write_json(dir, small_run(), "r.json");
  const std::string sweep = write_json(dir, small_sweep({0.01, 0.02}), "s.json");
  REQUIRE(test::gradflow_cli("run -q " + sweep + " --out " + dir.file("sw")).code == 0);
  const std::string sw = dir.file("sw");
  const std::string commands[] = {
      "run " + run + " --out " + dir.file("r"),
      "validate " + run,
      "plan " + sweep,
      "summarize " + sw,
      "compare " + sw + " " + sw,
      "report " + sw + " --out " + dir.file("page.html"),
      "merge " + sw + " --out " + sw,
      "submit " + sweep + " --out " + dir.file("slurm") + " --dry-run",
      "--help",
      "--version",
  };
  for (const std::string& args : commands) {
    const std::string err = dir.file("err");
    const int status = std::system((std::string(GRADFLOW_BINARY) + " " + args +
                                    " > /dev/full 2> " + err)
                                       .c_str());
    const std::string message = test::read_text(err);
    INFO(args << "\n" << message);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 1);
    REQUIRE(contains(message, "cannot write to standard output: No space left on device"));
  }
}
