// `gradflow submit` without a cluster: the sbatch scripts (run here with bash, one task at a
// time, as Slurm would), option checks, sbatch's reply, and the CLI against a stand-in sbatch
// that records its arguments. scripts/check_slurm.sh runs the real thing on a local Slurm.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "base/errors.hpp"
#include "run/slurm.hpp"
#include "support.hpp"
#include "config/sweep.hpp"

using namespace gradflow;
namespace fs = std::filesystem;
using test::gradflow_cli;
using Result = test::CliResult;

namespace {

using test::contains;

// Five runs (depth 2..6), a fraction of a second in all.
nlohmann::json five_runs() {
  return nlohmann::json::parse(R"({
    "name": "submit-small", "seed": 5,
    "data": {"kind": "gaussian_mixture", "train_size": 96, "probe_size": 24, "dim": 6,
             "classes": 3},
    "model": {"width": 10, "activation": "tanh", "init": "xavier_normal"},
    "train": {"steps": 20, "batch_size": 32, "lr": 0.05},
    "log": {"every": 10},
    "sweep": {"model.depth": [2, 3, 4, 5, 6]}
  })");
}

SweepPlan plan_of(const nlohmann::json& doc) { return expand_sweep(doc, "five.json"); }

SlurmJob job_for(const std::string& out, std::size_t n, std::vector<std::size_t> tasks) {
  SlurmJob job;
  job.gradflow = GRADFLOW_BINARY;
  job.config = out + "/slurm/config.json";
  job.out_dir = out;
  job.name = "submit-small";
  job.shard_count = n;
  job.tasks = std::move(tasks);
  return job;
}

// A shell command's exit code and output (stdout and stderr together).
Result sh(const std::string& command) {
  Result r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs an array task's script with bash, as Slurm would on a node; returns its exit code.
int run_script(const std::string& script, const std::string& env) {
  const Result r = sh("env " + env + " bash " + script);
  INFO(r.output);
  return r.code;
}

const std::vector<std::string> kCompared = {"sweep.json", "runs.csv", "layers.csv", "steps.csv",
                                            "lifecycle.csv"};

void require_same_tables(const std::string& a, const std::string& b) {
  for (const std::string& name : kCompared) {
    INFO(name);
    REQUIRE(fs::exists(a + "/" + name));
    REQUIRE(test::read_text(a + "/" + name) == test::read_text(b + "/" + name));
  }
}

// A stand-in for sbatch: appends its arguments to calls.txt and answers like --parsable.
std::string fake_sbatch(const test::TempDir& dir) {
  fs::create_directories(dir.path / "bin");
  const std::string path = dir.file("bin/sbatch");
  test::write_text(path, "#!/bin/sh\necho \"$*\" >> " + dir.file("calls.txt") +
                             "\necho $(( $(wc -l < " + dir.file("calls.txt") + ") + 100 ))\n");
  fs::permissions(path, fs::perms::owner_all);
  // squeue: no job of an earlier submission is queued, unless queued.txt says so.
  const std::string squeue = dir.file("bin/squeue");
  test::write_text(squeue, "#!/bin/sh\ncat " + dir.file("queued.txt") + " 2>/dev/null\n");
  fs::permissions(squeue, fs::perms::owner_all);
  return "env PATH=" + dir.file("bin") + ":/usr/bin:/bin " + GRADFLOW_BINARY;
}

}  // namespace

TEST_CASE("array ranges collapse, and the array size is clamped and kept on resubmission",
          "[submit]") {
  REQUIRE(array_spec({0, 1, 2}) == "0-2");
  REQUIRE(array_spec({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8");
  REQUIRE(array_spec({4}) == "4");

  REQUIRE(choose_array_size(0, 5, 0) == 5);   // default: one task per run
  REQUIRE(choose_array_size(3, 5, 0) == 3);
  REQUIRE(choose_array_size(50, 5, 0) == 5);  // more tasks than runs: clamped
  REQUIRE(choose_array_size(0, 5, 2) == 2);   // a resubmission keeps the earlier size
  REQUIRE(choose_array_size(2, 5, 2) == 2);
  try {
    choose_array_size(3, 5, 2);
    FAIL("a different size on resubmission was accepted");
  } catch (const InputError& e) {
    INFO(e.what());
    REQUIRE(e.where() == "--array-size");
    REQUIRE(contains(e.what(), "submitted with --array-size 2"));
  }
}

TEST_CASE("only shards with unfinished runs are resubmitted", "[submit]") {
  const SweepPlan plan = plan_of(five_runs());
  REQUIRE(plan.runs.size() == 5);
  auto none = [](const RunSpec&) { return false; };
  REQUIRE(shards_to_run(plan, 3, none) == std::vector<std::size_t>{0, 1, 2});
  // Runs 0..4 in shards 0,1,2,0,1: with only run 4 unfinished, only shard 1 is left.
  auto all_but_4 = [](const RunSpec& r) { return r.index != 4; };
  REQUIRE(shards_to_run(plan, 3, all_but_4) == std::vector<std::size_t>{1});
  REQUIRE(shards_to_run(plan, 3, [](const RunSpec&) { return true; }).empty());
}

TEST_CASE("Slurm options and paths are checked before they reach a script", "[submit]") {
  SlurmOptions ok;
  ok.partition = "short,long";
  for (const char* t : {"30", "5:00", "2:00:00", "1-12", "1-12:30", "1-0:0:0", "UNLIMITED"}) {
    ok.time = t;
    INFO(t);
    REQUIRE_NOTHROW(check_slurm_options(ok));
  }
  for (const char* t : {"", "1:2:3:4", "1h", "-5", "1-", "1:", "1-2-3", "1 0"}) {
    if (!*t) continue;
    SlurmOptions bad;
    bad.time = t;
    INFO(t);
    REQUIRE_THROWS_WITH(check_slurm_options(bad), Catch::Contains("--time"));
  }
  SlurmOptions bad_partition;
  bad_partition.partition = "gpu\n#SBATCH --x";
  REQUIRE_THROWS_WITH(check_slurm_options(bad_partition), Catch::Contains("--partition"));
  SlurmOptions bad_setup;
  bad_setup.setup = {"module load a\necho b"};
  REQUIRE_THROWS_WITH(check_slurm_options(bad_setup), Catch::Contains("--setup"));

  REQUIRE_NOTHROW(check_sbatch_path("--out", "/scratch/me/sweep-1_a.b"));
  for (const char* p : {"/a b", "/a%j", "/a'b", "/a$HOME", "/a\nb"}) {
    INFO(p);
    REQUIRE_THROWS_WITH(check_sbatch_path("--out", p), Catch::Contains("--out"));
  }
}

TEST_CASE("sbatch replies give the job id, anything else is an error", "[submit]") {
  REQUIRE(parse_sbatch_job_id("123\n") == "123");
  REQUIRE(parse_sbatch_job_id("123;cluster\n") == "123");
  REQUIRE(parse_sbatch_job_id("Submitted batch job 456\n") == "456");
  REQUIRE(parse_sbatch_job_id("sbatch: warning: x\n789\n") == "789");
  for (const char* bad : {"", "\n", "error", "Submitted batch job", "12a"}) {
    INFO(bad);
    REQUIRE_THROWS_WITH(parse_sbatch_job_id(bad), Catch::Contains("expected a job id"));
  }
}

TEST_CASE("the array script holds the directives and the shard command", "[submit]") {
  SlurmJob job = job_for("/scratch/sweep", 3, {0, 1, 2});
  job.overrides = {"train.lr=0.1", "name=it's"};
  SlurmOptions o;
  o.partition = "short";
  o.time = "1:00:00";
  o.cpus_per_task = 4;
  o.setup = {"module load gcc/12"};
  const std::string s = array_script(job, o);
  INFO(s);
  for (const char* line :
       {"#!/bin/bash\n", "#SBATCH --array=0-2\n", "#SBATCH --output=/scratch/sweep/logs/task_%A_%a.out\n",
        "#SBATCH --chdir=/scratch/sweep\n", "#SBATCH --partition=short\n", "#SBATCH --time=1:00:00\n",
        "#SBATCH --cpus-per-task=4\n", "#SBATCH --job-name=gradflow-submit-small\n",
        "module load gcc/12\n", "--set 'train.lr=0.1' --set 'name=it'\\''s'",
        "--out '/scratch/sweep/shards'/\"$shard\" --shard \"$shard/3\"",
        "--jobs \"${SLURM_CPUS_PER_TASK:-1}\""}) {
    INFO(line);
    REQUIRE(contains(s, line));
  }
  // sbatch reads #SBATCH lines only before the first command.
  REQUIRE(s.rfind("#SBATCH") < s.find("set -eu"));
  // Optional directives are left to the cluster's defaults when not given.
  const std::string plain = array_script(job_for("/d", 4, {1, 3}), SlurmOptions{});
  REQUIRE(contains(plain, "#SBATCH --array=1,3\n"));
  REQUIRE(contains(plain, "--shard \"$shard/4\""));
  for (const char* absent : {"--partition", "--time", "--cpus-per-task"}) REQUIRE_FALSE(contains(plain, absent));

  const std::string m = merge_script(job, o);
  INFO(m);
  REQUIRE(contains(m, "#SBATCH --output=/scratch/sweep/logs/merge_%j.out\n"));
  REQUIRE(contains(m, "for i in $(seq 0 2)"));
  REQUIRE(contains(m, " merge '/scratch/sweep' \"${shards[@]}\" --out '/scratch/sweep'\n"));
}

TEST_CASE("the scripts run task by task give the local sweep's tables, and list a failed task",
          "[submit]") {
  test::TempDir dir("submit-scripts");
  const std::string config = dir.file("five.json");
  test::write_text(config, five_runs().dump(2));
  REQUIRE(gradflow_cli("run " + config + " --out " + dir.file("local") + " -j 2 -q").code == 0);

  // What `submit` writes: the config copy, the plan's manifest and the two scripts.
  const std::string out = dir.file("slurm-out");
  const Result dry = gradflow_cli("submit " + config + " --out " + out + " --array-size 3 --dry-run");
  INFO(dry.output);
  REQUIRE(dry.code == 0);
  REQUIRE(contains(dry.output, "#SBATCH --array=0-2"));
  REQUIRE_FALSE(fs::exists(out));  // a dry run writes nothing
  const Result fake = sh(fake_sbatch(dir) + " submit " + config + " --out " +
                                   out + " --array-size 3");
  INFO(fake.output);
  REQUIRE(fake.code == 0);
  REQUIRE(contains(fake.output, "submitted job array 101: tasks 0-2 of 3 (5 runs in the sweep)"));
  REQUIRE(contains(fake.output, "submitted merge job 102"));
  const std::string calls = test::read_text(dir.file("calls.txt"));
  INFO(calls);
  REQUIRE(contains(calls, "--parsable " + out + "/slurm/array.sbatch\n"));
  REQUIRE(contains(calls, "--parsable --dependency=afterany:101 " + out + "/slurm/merge.sbatch\n"));
  const auto record = nlohmann::json::parse(test::read_text(out + "/slurm/submit.json"));
  REQUIRE(record["shard_count"] == 3);
  REQUIRE(record["merge_job"] == "102");
  // The copy keeps the sweep's name although it is called config.json.
  REQUIRE(nlohmann::json::parse(test::read_text(out + "/slurm/config.json"))["name"] ==
          "submit-small");

  // Slurm's part, by hand: tasks 0 and 2 succeed, task 1 "fails" (never runs), then merge.
  const std::string array = out + "/slurm/array.sbatch", merge = out + "/slurm/merge.sbatch";
  REQUIRE(run_script(array, "SLURM_ARRAY_TASK_ID=0") == 0);
  REQUIRE(run_script(array, "SLURM_ARRAY_TASK_ID=2 SLURM_CPUS_PER_TASK=2") == 0);
  const Result partial = sh("bash " + merge);
  INFO(partial.output);
  REQUIRE(partial.code == 3);
  const auto manifest = nlohmann::json::parse(test::read_text(dir.file("local/sweep.json")));
  for (const auto& run : manifest["runs"]) {
    INFO("run " << run["index"]);
    REQUIRE(contains(partial.output, run["id"].get<std::string>()) == (run["index"] == 1 || run["index"] == 4));
  }

  // A resubmission asks only for shard 1; once it has run, the merge equals the local run.
  const Result again = sh(fake_sbatch(dir) + " submit " + config + " --out " + out);
  INFO(again.output);
  REQUIRE(again.code == 0);
  REQUIRE(contains(again.output, "submitted job array 103: task 1 of 3 (5 runs in the sweep)"));
  REQUIRE(contains(test::read_text(array), "#SBATCH --array=1\n"));
  REQUIRE(run_script(array, "SLURM_ARRAY_TASK_ID=1") == 0);
  REQUIRE(sh("bash " + merge).code == 0);
  require_same_tables(dir.file("local"), out);
  REQUIRE(test::read_text(dir.file("local/runs.csv")).size() > 100);

  // Nothing left: no job, the merge happens here (the earlier jobs have left the queue).
  const std::size_t calls_before = test::read_text(dir.file("calls.txt")).size();
  const Result done = sh(fake_sbatch(dir) + " submit " + config + " --out " + out);
  INFO(done.output);
  REQUIRE(done.code == 0);
  REQUIRE(contains(done.output, "nothing to submit"));
  REQUIRE(contains(done.output, "5 of 5 runs finished"));
  REQUIRE(test::read_text(dir.file("calls.txt")).size() == calls_before);

  // A resubmission while the earlier jobs are queued, with another array size, or of a changed
  // sweep is refused.
  test::write_text(dir.file("queued.txt"), "104\n");
  const Result queued = sh(fake_sbatch(dir) + " submit " + config + " --out " + out);
  INFO(queued.output);
  REQUIRE(queued.code == 1);
  REQUIRE(contains(queued.output, "jobs 103,104 of the earlier submission"));
  fs::remove(dir.file("queued.txt"));
  const Result resized = sh(fake_sbatch(dir) + " submit " + config + " --out " + out +
                                      " --array-size 2");
  REQUIRE(resized.code == 1);
  REQUIRE(contains(resized.output, "submitted with --array-size 3"));
  const Result changed = sh(fake_sbatch(dir) + " submit " + config + " --out " + out +
                                      " --set train.steps=21");
  REQUIRE(changed.code == 1);
  REQUIRE(contains(changed.output, "different sweep"));
}

TEST_CASE("submit refuses what it cannot run, and says why", "[submit]") {
  test::TempDir dir("submit-refused");
  const std::string config = dir.file("five.json");
  test::write_text(config, five_runs().dump(2));
  const std::string out = dir.file("out");

  const Result no_sbatch =
      sh("env PATH=/nonexistent " GRADFLOW_BINARY " submit " + config + " --out " + out);
  INFO(no_sbatch.output);
  REQUIRE(no_sbatch.code == 1);
  REQUIRE(contains(no_sbatch.output, "sbatch: not found on PATH"));
  REQUIRE_FALSE(fs::exists(out));

  const Result zero = gradflow_cli("submit " + config + " --out " + out + " --array-size 0");
  REQUIRE(zero.code == 2);
  REQUIRE(contains(zero.output, "--array-size"));

  const Result clamped = gradflow_cli("submit " + config + " --out " + out + " --array-size 9 --dry-run");
  INFO(clamped.output);
  REQUIRE(clamped.code == 0);
  REQUIRE(contains(clamped.output, "using 5 tasks"));
  REQUIRE(contains(clamped.output, "#SBATCH --array=0-4"));

  const Result spaced = gradflow_cli("submit " + config + " --out '" + dir.file("a b") + "' --dry-run");
  REQUIRE(spaced.code == 1);
  REQUIRE(contains(spaced.output, "--out"));

  const Result bad_time = gradflow_cli("submit " + config + " --out " + out + " --time 1h --dry-run");
  REQUIRE(bad_time.code == 1);
  REQUIRE(contains(bad_time.output, "--time"));

  nlohmann::json single = five_runs();
  single.erase("sweep");
  test::write_text(config, single.dump(2));
  const Result one = gradflow_cli("submit " + config + " --out " + out + " --dry-run");
  INFO(one.output);
  REQUIRE(one.code == 1);
  REQUIRE(contains(one.output, "no sweep section"));
}

TEST_CASE("a config with a relative data path is read in place, with its overrides", "[submit]") {
  test::TempDir dir("submit-in-place");
  fs::create_directories(dir.path / "configs" / "data");
  std::string csv = "x1,x2,label\n";
  for (int i = 0; i < 40; ++i)
    csv += std::to_string(i % 7) + "," + std::to_string(i % 5) + "," + std::to_string(i % 2) + "\n";
  test::write_text(dir.file("configs/data/points.csv"), csv);
  nlohmann::json config = five_runs();
  config["data"] = {{"kind", "csv"}, {"path", "data/points.csv"}, {"label_column", "label"},
                    {"train_size", 30}, {"probe_size", 10}};
  config["train"]["batch_size"] = 10;
  const std::string path = dir.file("configs/csv.json");
  test::write_text(path, config.dump(2));

  // Run from another folder: the tasks must still find data/points.csv beside the config.
  const Result dry = sh("cd / && " GRADFLOW_BINARY " submit " + path + " --out " +
                        dir.file("out") + " --set train.lr=0.1 --dry-run");
  INFO(dry.output);
  REQUIRE(dry.code == 0);
  REQUIRE(contains(dry.output, "relative data paths"));
  REQUIRE(contains(dry.output, " run '" + path + "' --set 'train.lr=0.1' \\\n"));
  REQUIRE_FALSE(contains(dry.output, "slurm/config.json'"));
}
