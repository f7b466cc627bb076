// Sweeps end to end through the gradflow binary: results independent of --jobs, resume after
// kill -9 and SIGTERM, shards merged back into the full sweep, the folder lock, and verdicts
// in runs.csv on runs built to vanish, explode, die and diverge.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/dir_lock.hpp"
#include "support.hpp"
#include "run/sweep_output.hpp"
#include "analysis/verdict.hpp"

using namespace gradflow;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kTables = {"runs.csv", "layers.csv", "steps.csv", "lifecycle.csv"};

using Result = test::CliResult;
using test::gradflow_cli;

using test::contains;

// Six runs: depth 2..4 x (relu/He, tanh/Xavier); a fraction of a second in all.
nlohmann::json small_sweep() {
  return nlohmann::json::parse(R"({
    "name": "runner-small", "seed": 3,
    "data": {"kind": "gaussian_mixture", "train_size": 128, "probe_size": 32, "dim": 8,
             "classes": 3},
    "model": {"depth": 3, "width": 12},
    "train": {"steps": 40, "batch_size": 32, "lr": 0.05, "optimizer": "momentum"},
    "log": {"every": 10},
    "sweep": {"model.depth": [2, 3, 4],
              "zip": [{"model.activation": ["relu", "tanh"],
                       "model.init": ["he_normal", "xavier_normal"]}]}
  })");
}

// Eight runs of `steps` steps each, for interrupting mid-sweep.
nlohmann::json long_sweep(long steps) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "name": "runner-long", "seed": 3,
    "data": {"kind": "gaussian_mixture", "train_size": 128, "probe_size": 32, "dim": 8,
             "classes": 3},
    "model": {"depth": 4, "width": 16, "activation": "tanh", "init": "xavier_normal"},
    "train": {"batch_size": 32, "lr": 0.05, "optimizer": "sgd"},
    "log": {"every": 50},
    "sweep": {"model.depth": [2, 3, 4, 5], "seeds": 2}
  })");
  j["train"]["steps"] = steps;
  return j;
}

std::string write_config(const test::TempDir& dir, const std::string& name,
                         const nlohmann::json& config) {
  const std::string path = dir.file(name);
  test::write_text(path, config.dump(2));
  return path;
}

// Every file under `dir` (relative path -> bytes), except the lock file, which holds a pid.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == ".gradflow.lock") continue;
    files[fs::relative(e.path(), dir).string()] = test::read_text(e.path().string());
  }
  return files;
}

// Empty when equal; otherwise the first file that is missing, extra or different.
std::string first_difference(const std::map<std::string, std::string>& a,
                             const std::map<std::string, std::string>& b) {
  for (const auto& [name, bytes] : a) {
    const auto it = b.find(name);
    if (it == b.end()) return name + " only in the first folder";
    if (it->second != bytes) return name + " differs";
  }
  for (const auto& [name, bytes] : b)
    if (!a.count(name)) return name + " only in the second folder";
  return "";
}

void require_same_tables(const std::string& a, const std::string& b) {
  for (const std::string& table : kTables) {
    INFO(table << " of " << a << " vs " << b);
    REQUIRE(fs::exists(a + "/" + table));
    REQUIRE(test::read_text(a + "/" + table) == test::read_text(b + "/" + table));
  }
}

void require_same_folders(const std::string& a, const std::string& b) {
  require_same_tables(a, b);
  const std::string difference = first_difference(snapshot(a), snapshot(b));
  INFO(a << " vs " << b << ": " << difference);
  REQUIRE(difference.empty());
}

std::vector<std::string> run_folders(const std::string& sweep_dir) {
  std::vector<std::string> out;
  if (!fs::is_directory(sweep_dir + "/runs")) return out;
  for (const auto& e : fs::directory_iterator(sweep_dir + "/runs"))
    if (e.is_directory()) out.push_back(e.path().string());
  return out;
}

std::size_t finished_runs(const std::string& sweep_dir) {
  std::size_t n = 0;
  for (const std::string& run : run_folders(sweep_dir))
    if (fs::exists(run + "/summary.json")) ++n;
  return n;
}

std::vector<std::string> temp_files(const std::string& dir, bool recursive) {
  std::vector<std::string> out;
  const auto check = [&](const fs::directory_entry& e) {
    if (contains(e.path().filename().string(), ".tmp.")) out.push_back(e.path().string());
  };
  if (recursive)
    for (const auto& e : fs::recursive_directory_iterator(dir)) check(e);
  else
    for (const auto& e : fs::directory_iterator(dir)) check(e);
  return out;
}

// No folder looks complete without being so: a run folder with summary.json has all its files
// and no temp files, and the sweep folder itself holds no temp files.
void require_consistent(const std::string& sweep_dir) {
  for (const std::string& run : run_folders(sweep_dir)) {
    if (!fs::exists(run + "/summary.json")) continue;
    for (const char* f : {"config.json", "layers.csv", "steps.csv", "lifecycle.csv"}) {
      INFO(run << " has summary.json but no " << f);
      REQUIRE(fs::exists(run + "/" + f));
    }
    const std::vector<std::string> stale = temp_files(run, true);
    INFO(run << " is finished but holds " << stale.size() << " temp files, first "
             << (stale.empty() ? "" : stale.front()));
    REQUIRE(stale.empty());
  }
  const std::vector<std::string> stale = temp_files(sweep_dir, false);
  INFO(sweep_dir << " holds " << stale.size() << " temp files, first "
                 << (stale.empty() ? "" : stale.front()));
  REQUIRE(stale.empty());
}

// `gradflow <args>` in a child process, stdout and stderr into `log`.
pid_t spawn_gradflow(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> all = {GRADFLOW_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) ::_exit(126);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// waitpid with a deadline; false (child still running) when it passes.
bool wait_exit(pid_t pid, int& status, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    REQUIRE(r == 0);
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

struct Interruption {
  std::string config;        // the config the interrupted sweep ran
  int status = 0;            // waitpid status
  double exit_seconds = 0;   // from the signal to the process's exit
  std::size_t finished = 0;  // run folders with summary.json once it had exited
  std::size_t total = 8;
  std::size_t unfinished_temp_files = 0;  // temp files in unfinished run folders after exit
  std::string log;
};

// Temp files in run folders without summary.json: a run is being written.
std::size_t unfinished_temp_files(const std::string& sweep_dir) {
  std::size_t n = 0;
  for (const std::string& run : run_folders(sweep_dir))
    if (!fs::exists(run + "/summary.json")) n += temp_files(run, false).size();
  return n;
}

// Starts the 8-run long sweep with --jobs 1 into `out`, waits until a run has finished and the
// next one is writing its files (so the signal lands mid-run, not between runs), and sends
// `signal`. If the sweep finished before the signal could land, the runs are made longer
// and it starts again: the caller always gets a sweep stopped part way.
Interruption interrupt_mid_sweep(const test::TempDir& dir, const std::string& out, int signal) {
  long steps = 8000;  // about 2 s for the 8 runs on one core
  for (int attempt = 0; attempt < 5; ++attempt, steps *= 2) {
    Interruption r;
    r.config = write_config(dir, "long.json", long_sweep(steps));
    fs::remove_all(out);
    const std::string log = dir.file("interrupted.log");
    const pid_t pid = spawn_gradflow({"run", r.config, "--out", out, "--jobs", "1"}, log);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    bool exited = false;
    const auto mid_run = [&] { return finished_runs(out) > 0 && unfinished_temp_files(out) > 0; };
    while (!mid_run() && Clock::now() < deadline) {
      if (::waitpid(pid, &r.status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    INFO("no run finished within 60 s; log: " << test::read_text(log));
    REQUIRE((exited || mid_run()));
    if (!exited) {
      REQUIRE(::kill(pid, signal) == 0);
      const auto signalled = Clock::now();
      exited = wait_exit(pid, r.status, std::chrono::seconds(30));
      r.exit_seconds = std::chrono::duration<double>(Clock::now() - signalled).count();
      if (!exited) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &r.status, 0);
        FAIL("gradflow did not exit within 30 s of signal " << signal);
      }
    }
    r.finished = finished_runs(out);
    r.unfinished_temp_files = unfinished_temp_files(out);
    r.log = test::read_text(log);
    if (r.finished < r.total) return r;
    WARN("the sweep with " << steps << " steps per run finished before signal " << signal
                           << " landed; retrying with longer runs");
  }
  FAIL("could not interrupt the sweep part way, even with " << steps << " steps per run");
  return {};
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(sep, start);
    out.push_back(line.substr(start, end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// runs.csv as its header and rows of column name -> cell (no quoted cells expected).
struct CsvRows {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

CsvRows read_csv(const std::string& path) {
  CsvRows csv;
  std::vector<std::string> lines = split(test::read_text(path), '\n');
  REQUIRE(lines.size() >= 2);
  REQUIRE(lines.back().empty());  // ends with a newline
  lines.pop_back();
  csv.header = split(lines.front(), ',');
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> cells = split(lines[i], ',');
    INFO(path << " line " << i + 1 << ": " << lines[i]);
    REQUIRE(cells.size() == csv.header.size());
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < cells.size(); ++c) row[csv.header[c]] = cells[c];
    csv.rows.push_back(std::move(row));
  }
  return csv;
}

}  // namespace

TEST_CASE("sweep results do not depend on --jobs", "[runner]") {
  test::TempDir dir("runner-jobs");
  const std::string config = write_config(dir, "small.json", small_sweep());
  const Result one = gradflow_cli("run " + config + " --out " + dir.file("j1") + " --jobs 1");
  INFO(one.output);
  REQUIRE(one.code == 0);
  REQUIRE(contains(one.output, "6 runs finished (6 ran now, 0 already done)"));
  const Result two = gradflow_cli("run " + config + " --out " + dir.file("j2") + " --jobs 2");
  INFO(two.output);
  REQUIRE(two.code == 0);

  const std::size_t folders = run_folders(dir.file("j1")).size();
  INFO("run folders: " << folders);
  REQUIRE(folders == 6);
  require_same_folders(dir.file("j1"), dir.file("j2"));
  // One row per run plus the header.
  const std::string runs = test::read_text(dir.file("j1/runs.csv"));
  REQUIRE(std::count(runs.begin(), runs.end(), '\n') == 7);
}

TEST_CASE("rerunning a finished sweep does no work, --force reruns it all", "[runner]") {
  test::TempDir dir("runner-rerun");
  const std::string config = write_config(dir, "small.json", small_sweep());
  const std::string out = dir.file("out");
  const std::string command = "run " + config + " --out " + out + " --jobs 2";
  const Result first = gradflow_cli(command);
  INFO(first.output);
  REQUIRE(first.code == 0);
  const auto before = snapshot(out);
  std::map<std::string, fs::file_time_type> mtimes;
  for (const std::string& run : run_folders(out))
    mtimes[run] = fs::last_write_time(run + "/summary.json");
  REQUIRE(mtimes.size() == 6);

  const Result again = gradflow_cli(command);
  INFO(again.output);
  REQUIRE(again.code == 0);
  REQUIRE(contains(again.output, "6 runs finished (0 ran now, 6 already done)"));
  for (const auto& [run, mtime] : mtimes) {
    INFO(run << " summary.json was rewritten");
    REQUIRE(fs::last_write_time(run + "/summary.json") == mtime);
  }
  std::string difference = first_difference(before, snapshot(out));
  INFO("after the rerun: " << difference);
  REQUIRE(difference.empty());

  const Result forced = gradflow_cli(command + " --force");
  INFO(forced.output);
  REQUIRE(forced.code == 0);
  REQUIRE(contains(forced.output, "6 runs finished (6 ran now, 0 already done)"));
  std::size_t rewritten = 0;
  for (const auto& [run, mtime] : mtimes)
    if (fs::last_write_time(run + "/summary.json") != mtime) ++rewritten;
  INFO("summary.json files rewritten by --force: " << rewritten);
  REQUIRE(rewritten == 6);
  difference = first_difference(before, snapshot(out));
  INFO("after --force: " << difference);
  REQUIRE(difference.empty());
}

TEST_CASE("a sweep killed with SIGKILL resumes to the uninterrupted result", "[runner]") {
  test::TempDir dir("runner-kill");
  const std::string out = dir.file("killed");
  const Interruption killed = interrupt_mid_sweep(dir, out, SIGKILL);
  INFO("finished at kill: " << killed.finished << " of " << killed.total << "; log:\n"
                            << killed.log);
  REQUIRE(WIFSIGNALED(killed.status));
  REQUIRE(WTERMSIG(killed.status) == SIGKILL);
  REQUIRE(killed.finished >= 1);
  REQUIRE(killed.finished < killed.total);
  // The run in progress left its temp files; the resumed sweep must not keep them.
  REQUIRE(killed.unfinished_temp_files > 0);
  require_consistent(out);

  const Result resumed = gradflow_cli("run " + killed.config + " --out " + out + " --jobs 1");
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  REQUIRE(contains(resumed.output,
                   "8 runs finished (" + std::to_string(killed.total - killed.finished) +
                       " ran now, " + std::to_string(killed.finished) + " already done)"));
  require_consistent(out);
  const std::vector<std::string> stale = temp_files(out, true);
  INFO("temp files after the resumed sweep: " << stale.size());
  REQUIRE(stale.empty());

  const Result reference =
      gradflow_cli("run " + killed.config + " --out " + dir.file("reference") + " --jobs 2 -q");
  INFO(reference.output);
  REQUIRE(reference.code == 0);
  require_same_folders(dir.file("reference"), out);
}

TEST_CASE("SIGTERM stops a sweep promptly with exit 130, keeping finished runs", "[runner]") {
  test::TempDir dir("runner-term");
  const std::string out = dir.file("stopped");
  const Interruption stopped = interrupt_mid_sweep(dir, out, SIGTERM);
  INFO("finished: " << stopped.finished << " of " << stopped.total << ", exited "
                    << stopped.exit_seconds << " s after SIGTERM; log:\n"
                    << stopped.log);
  REQUIRE(WIFEXITED(stopped.status));
  REQUIRE(WEXITSTATUS(stopped.status) == 130);
  REQUIRE(stopped.exit_seconds < 2.0);
  REQUIRE(contains(stopped.log, "interrupted"));
  REQUIRE(stopped.finished >= 1);
  // The run in progress was abandoned cleanly: no summary.json, and no temp files anywhere.
  require_consistent(out);
  const std::vector<std::string> stale = temp_files(out, true);
  INFO("temp files after SIGTERM: " << stale.size());
  REQUIRE(stale.empty());
  // The tables hold exactly the finished runs.
  const std::string runs = test::read_text(out + "/runs.csv");
  REQUIRE(std::size_t(std::count(runs.begin(), runs.end(), '\n')) == stopped.finished + 1);

  const Result resumed = gradflow_cli("run " + stopped.config + " --out " + out + " --jobs 2");
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  REQUIRE(contains(resumed.output, std::to_string(stopped.finished) + " already done)"));
  const Result reference =
      gradflow_cli("run " + stopped.config + " --out " + dir.file("reference") + " --jobs 2 -q");
  INFO(reference.output);
  REQUIRE(reference.code == 0);
  require_same_folders(dir.file("reference"), out);
}

TEST_CASE("a second interrupt stops a run in the middle of a long step at once", "[runner]") {
  // One run whose every step takes seconds (width 2048, batch 1024): the first SIGINT can only
  // take effect at the end of a step, the second ends the process; a rerun starts it clean.
  test::TempDir dir("runner-second-interrupt");
  const std::string config = write_config(dir, "slow.json", nlohmann::json::parse(R"({
    "name": "slow-steps", "seed": 1, "precision": "float32",
    "data": {"kind": "gaussian_mixture", "train_size": 1024, "probe_size": 16, "dim": 8},
    "model": {"depth": 4, "width": 2048},
    "train": {"batch_size": 1024, "steps": 1000}, "log": {"every": 1}})"));
  const std::string out = dir.file("slow");
  const std::string log = dir.file("slow.log");
  const pid_t pid = spawn_gradflow({"run", config, "--out", out}, log);
  const auto started = Clock::now();
  const auto training = [&] { return fs::exists(out) && !temp_files(out, false).empty(); };
  while (!training() && Clock::now() - started < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(training());  // its tables are being written
  REQUIRE(::kill(pid, SIGINT) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  REQUIRE(::kill(pid, SIGINT) == 0);
  const auto signalled = Clock::now();
  int status = 0;
  const bool exited = wait_exit(pid, status, std::chrono::seconds(20));
  if (!exited) ::kill(pid, SIGKILL), ::waitpid(pid, &status, 0);
  const double seconds = std::chrono::duration<double>(Clock::now() - signalled).count();
  INFO("exited " << seconds << " s after the second SIGINT; log:\n" << test::read_text(log));
  REQUIRE(exited);
  REQUIRE(seconds < 2.0);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGINT);
  REQUIRE(contains(test::read_text(log), "interrupt again to stop now"));
  REQUIRE(!fs::exists(out + "/summary.json"));  // nothing that passes for results
  // The next run into the folder starts it clean (here: a short one, so the test is quick).
  const Result again = gradflow_cli("run " + config + " --out " + out + " --set train.steps=1 "
                                    "--set model.width=8 -q");
  INFO(again.output);
  REQUIRE(again.code == 0);
  REQUIRE(fs::exists(out + "/summary.json"));
  REQUIRE(temp_files(out, false).empty());
}

TEST_CASE("shards merge into the full sweep, missing shards and bad --shard are reported",
          "[runner]") {
  test::TempDir dir("runner-shards");
  const std::string config = write_config(dir, "small.json", small_sweep());
  const Result full = gradflow_cli("run " + config + " --out " + dir.file("full") + " -j 2 -q");
  INFO(full.output);
  REQUIRE(full.code == 0);
  for (const std::string i : {"0", "1", "2"}) {
    const Result shard =
        gradflow_cli("run " + config + " --out " + dir.file("s" + i) + " --shard " + i + "/3 -j 2");
    INFO(shard.output);
    REQUIRE(shard.code == 0);
    REQUIRE(contains(shard.output, "2 runs finished (2 ran now, 0 already done)"));
  }

  const Result merged = gradflow_cli("merge " + dir.file("s0") + " " + dir.file("s1") + " " +
                                     dir.file("s2") + " --out " + dir.file("merged"));
  INFO(merged.output);
  REQUIRE(merged.code == 0);
  REQUIRE(contains(merged.output, "6 of 6 runs finished (6 copied from shards)"));
  require_same_folders(dir.file("full"), dir.file("merged"));

  // Two shards of three: the third shard's runs (index % 3 == 2) are missing.
  const Result partial = gradflow_cli("merge " + dir.file("s0") + " " + dir.file("s1") + " --out " +
                                      dir.file("partial"));
  INFO(partial.output);
  REQUIRE(partial.code == 3);
  REQUIRE(contains(partial.output, "2 runs missing"));
  const auto manifest = nlohmann::json::parse(test::read_text(dir.file("full/sweep.json")));
  for (const auto& run : manifest["runs"]) {
    const std::string id = run["id"];
    INFO("run " << run["index"] << " " << id);
    REQUIRE(contains(partial.output, id) == (run["index"].get<int>() % 3 == 2));
  }
  const std::string runs = test::read_text(dir.file("partial/runs.csv"));
  REQUIRE(std::count(runs.begin(), runs.end(), '\n') == 5);

  for (const char* bad : {"3/3", "x", "1/0", "-1/3", "1/3/4", "2/"}) {
    const std::string out = dir.file("bad");
    const Result r = gradflow_cli("run " + config + " --out " + out + " --shard " + bad);
    INFO("--shard " << bad << ": " << r.output);
    REQUIRE(r.code == 1);
    REQUIRE(contains(r.output, "--shard"));
    REQUIRE(contains(r.output, "expected I/N"));
    REQUIRE_FALSE(fs::exists(out));
  }
}

TEST_CASE("a locked output folder is refused without writing anything", "[runner]") {
  test::TempDir dir("runner-lock");
  const std::string config = write_config(dir, "small.json", small_sweep());
  const std::string out = dir.file("out");
  fs::create_directories(out);
  const std::string command = "run " + config + " --out " + out + " -j 2";
  {
    const DirLock lock(out);
    const Result r = gradflow_cli(command);
    INFO(r.output);
    REQUIRE(r.code == 1);
    REQUIRE(contains(r.output, "another gradflow process"));
    REQUIRE(contains(r.output, "(pid " + std::to_string(::getpid()) + ")"));
    for (const std::string& table : kTables) REQUIRE_FALSE(fs::exists(out + "/" + table));
    REQUIRE_FALSE(fs::exists(out + "/sweep.json"));
    REQUIRE_FALSE(fs::exists(out + "/runs"));
  }
  const Result unlocked = gradflow_cli(command);
  INFO(unlocked.output);
  REQUIRE(unlocked.code == 0);
}

TEST_CASE("runs.csv gives each run's verdicts: vanishing, exploding, dying, diverged", "[runner]") {
  // Sizes checked to give these verdicts for data/init seeds 1-7.
  test::TempDir dir("runner-verdicts");
  // Written as text: the zip group's key order is the order of runs.csv's columns.
  const std::string config = dir.file("verdicts.json");
  test::write_text(config, R"({
    "name": "runner-verdicts", "seed": 7,
    "data": {"kind": "gaussian_mixture", "dim": 16, "classes": 4, "separation": 3,
             "train_size": 512, "probe_size": 128},
    "model": {"width": 64},
    "log": {"every": 20},
    "sweep": {"zip": [{
      "model.activation": ["sigmoid", "tanh", "relu", "relu"],
      "model.init": ["xavier_normal", "xavier_normal", "he_normal", "he_normal"],
      "model.init_gain": [1, 4, 1, 1.5],
      "model.depth": [20, 20, 6, 20],
      "train.optimizer": ["sgd", "sgd", "adam", "sgd"],
      "train.lr": [0.05, 0.05, 0.1, 0.05],
      "train.steps": [60, 60, 300, 60]}]}
  })");
  const Result r = gradflow_cli("run " + config + " --out " + dir.file("out") + " -j 2");
  INFO(r.output);
  REQUIRE(r.code == 0);

  const CsvRows csv = read_csv(dir.file("out/runs.csv"));
  std::vector<std::string> header = {"run_id",          "label",           "model.activation",
                                     "model.init",      "model.init_gain", "model.depth",
                                     "train.optimizer", "train.lr",        "train.steps"};
  for (std::string_view c : kRunSummaryColumns) header.emplace_back(c);
  REQUIRE(csv.header == header);
  REQUIRE(csv.header[9] == "status");
  REQUIRE(csv.header[10] == "verdict");
  REQUIRE(csv.header[11] == "verdicts");
  REQUIRE(csv.header[12] == "final_loss");

  const std::vector<std::string> expected = {"vanishing", "exploding", "dying", "diverged"};
  REQUIRE(csv.rows.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& row = csv.rows[i];
    INFO("run " << i << " " << row.at("label") << ": status " << row.at("status") << ", verdict "
                << row.at("verdict") << ", verdicts " << row.at("verdicts"));
    REQUIRE(row.at("verdict") == expected[i]);
    REQUIRE(row.at("status") == (expected[i] == "diverged" ? "diverged" : "completed"));
    // verdicts: '+'-joined, headline first, in precedence order, no repeats.
    const std::vector<std::string> listed = split(row.at("verdicts"), '+');
    REQUIRE(listed.front() == row.at("verdict"));
    std::size_t previous = 0;
    for (std::size_t k = 0; k < listed.size(); ++k) {
      const auto it = std::find(kVerdictNames.begin(), kVerdictNames.end(), listed[k]);
      REQUIRE(it != kVerdictNames.end());
      const std::size_t rank = std::size_t(it - kVerdictNames.begin());
      REQUIRE(rank != std::size_t(Verdict::healthy));
      if (k > 0) REQUIRE(rank > previous);
      previous = rank;
    }
  }
}
