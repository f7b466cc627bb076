// Hostile inputs through the gradflow binary (issue 6, item 4): each is refused with one clear
// message naming the file / JSON path / count / estimate / line, exit code 1, and nothing
// written or lost. Library-level checks of the same limits are in test_config, test_sweep and
// test_data; this file checks what a user sees end to end.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "config/config_reader.hpp"
#include "support.hpp"

using namespace gradflow;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

using test::contains;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A one-run config that trains in a fraction of a second.
nlohmann::json small_config(long steps = 30) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "name": "hostile", "seed": 7,
    "data": {"kind": "gaussian_mixture", "train_size": 128, "probe_size": 32, "dim": 6,
             "classes": 3},
    "model": {"depth": 3, "width": 12, "activation": "tanh", "init": "xavier_normal"},
    "train": {"batch_size": 32, "lr": 0.05},
    "log": {"every": 10}
  })");
  j["train"]["steps"] = steps;
  return j;
}

std::string write_config(const test::TempDir& dir, const nlohmann::json& config,
                         const std::string& name = "c.json") {
  test::write_text(dir.file(name), config.dump(2));
  return dir.file(name);
}

using test::snapshot;

std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (contains(e.path().filename().string(), ".tmp")) found.push_back(e.path().string());
  return found;
}

// The refusal every case shares: exit 1, the message, and no output folder.
void require_refused(const test::CliResult& r, const std::vector<std::string>& parts,
                     const std::string& out) {
  INFO(r.output);
  REQUIRE(r.code == 1);
  for (const std::string& part : parts) REQUIRE(contains(r.output, part));
  REQUIRE_FALSE(fs::exists(out));
}

}  // namespace

TEST_CASE("a 1 GB config file is refused after reading 16 MiB", "[hostile]") {
  test::TempDir dir("hostile-big");
  const std::string big = dir.file("big.json");
  test::write_text(big, "{\"seed\": 1, \"description\": \"");
  fs::resize_file(big, std::uintmax_t(1) << 30);  // sparse: no gigabyte on disk
  const auto start = Clock::now();
  const test::CliResult r = test::gradflow_cli("run " + big + " --out " + dir.file("out"));
  const double seconds = seconds_since(start);
  require_refused(r, {big + ": refusing to read: larger than the 16 MiB limit"}, dir.file("out"));
  INFO(seconds << " s");
  REQUIRE(seconds < 10);  // reads 16 MiB, not the gigabyte
}

TEST_CASE("deeply nested JSON and deep --set keys are refused with their path", "[hostile]") {
  test::TempDir dir("hostile-deep");
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "{\"a\": ";
  deep += "1" + std::string(100000, '}');
  test::write_text(dir.file("deep.json"), deep);
  std::string path_64;
  for (int i = 0; i < kMaxJsonDepth; ++i) path_64 += "/a";
  require_refused(test::gradflow_cli("run " + dir.file("deep.json") + " --out " + dir.file("out")),
                  {dir.file("deep.json") + ": " + path_64 + ": JSON nested deeper than 64 levels"},
                  dir.file("out"));

  std::string key = "model";
  for (int i = 0; i < 10000; ++i) key += ".x";
  const std::string config = write_config(dir, small_config());
  require_refused(test::gradflow_cli("run " + config + " --set " + key + "=1 --out " +
                                     dir.file("out")),
                  {"--set", "the key is too deep"}, dir.file("out"));
  std::string nested_value = std::string(1000, '[') + std::string(1000, ']');
  require_refused(test::gradflow_cli("run " + config + " --set 'model.width=" + nested_value +
                                     "' --out " + dir.file("out")),
                  {"--set", "nested deeper than 64 levels"}, dir.file("out"));
}

TEST_CASE("a sweep of 10^9 runs is refused at once, with the count", "[hostile]") {
  test::TempDir dir("hostile-sweep");
  nlohmann::json config = small_config();
  config["sweep"] = {{"model.depth", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
                     {"train.lr", {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}}};
  const std::string path = write_config(dir, config);
  for (const std::string command : {"run", "plan", "validate"}) {
    const auto start = Clock::now();
    const std::string out = command == "run" ? " --out " + dir.file("out") : "";
    const test::CliResult r =
        test::gradflow_cli(command + " " + path + " --set sweep.seeds=10000000" + out);
    const double seconds = seconds_since(start);
    INFO(command << ": " << seconds << " s");
    require_refused(r,
                    {path + " (after --set sweep.seeds=10000000): /sweep: expands to 1000000000 runs "
                     "(10 x 10 x 10000000), more than the "
                     "limit of 100000"},
                    dir.file("out"));
    REQUIRE(seconds < 5);
  }
}

TEST_CASE("a network or data set too large for memory is refused with the estimate",
          "[hostile]") {
  test::TempDir dir("hostile-memory");
  const std::string config = write_config(dir, small_config());
  const std::string out = dir.file("out");
  const auto start = Clock::now();
  // 1000 x 65536^2 parameters: about 4e12, tens of terabytes.
  require_refused(test::gradflow_cli("run " + config +
                                     " --set model.depth=1000 --set model.width=65536 --out " + out),
                  {config + " (after --set model.depth=1000 --set model.width=65536): /model: "
                   "this run needs about ", " GiB of memory (",
                   " parameters, ", "but the machine has ", "reduce model.depth or model.width"},
                  out);
  // The same network written as model.layers: the advice names the keys the config used.
  require_refused(test::gradflow_cli("run " + config +
                                     " --set 'model={\"layers\": [{\"kind\": \"dense\", "
                                     "\"units\": 65536}, {\"kind\": \"dense\", \"units\": "
                                     "65536}, {\"kind\": \"dense\", \"units\": 65536}]}' --out " +
                                     out),
                  {"/model: this run needs about ", "reduce the units or channels of model.layers"},
                  out);
  // 10^9 examples of dimension 65536: refused before a single example is drawn.
  require_refused(test::gradflow_cli("run " + config +
                                     " --set data.train_size=1000000000 --set data.dim=65536 "
                                     "--set model.depth=1 --set model.width=1 --out " + out),
                  {config + " (after --set data.train_size=1000000000 --set data.dim=65536): "
                   "/data: this run needs about ", "reduce data.train_size"}, out);
  // In a sweep, the one huge run stops the sweep before any run starts.
  nlohmann::json sweep = small_config();
  sweep["sweep"] = {{"model.width", {8, 65536}}, {"model.depth", {2, 1000}}};
  require_refused(test::gradflow_cli("run " + write_config(dir, sweep, "s.json") + " --out " + out),
                  {"/model: this run needs about "}, out);
  INFO(seconds_since(start) << " s");
  REQUIRE(seconds_since(start) < 20);
}

TEST_CASE("a csv data set with a NaN or a ragged row names the line", "[hostile]") {
  test::TempDir dir("hostile-csv");
  nlohmann::json config = small_config();
  config["data"] = {{"kind", "csv"}, {"path", "data.csv"}, {"label_column", "y"},
                    {"probe_size", 2}};
  const std::string path = write_config(dir, config);
  const std::string good = "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,10,0\n";
  const std::pair<std::string, std::string> cases[] = {
      {good + "1,nan,1\n", "line 7, column \"b\": NaN or Inf is not allowed"},
      {good + "1,2\n", "line 7: expected 3 fields, got 2"},
  };
  for (const auto& [csv, message] : cases) {
    test::write_text(dir.file("data.csv"), csv);
    for (const std::string command : {"run", "validate", "plan"}) {
      INFO(command);
      const std::string out = command == "run" ? " --out " + dir.file("out") : "";
      require_refused(test::gradflow_cli(command + " " + path + out),
                      {dir.file("data.csv") + ": " + message}, dir.file("out"));
    }
  }
}

namespace {

// A sweep with small files per run, so a disk of a few hundred KB fills partway.
nlohmann::json disk_sweep(const std::vector<double>& lrs) {
  nlohmann::json j = small_config(20);
  j["name"] = "disk";
  j["sweep"] = {{"train.lr", lrs}};
  return j;
}

// Fills the file system holding `dir` up to `leave` free bytes with one file, returned.
std::string fill_disk(const std::string& dir, std::uintmax_t leave) {
  const std::string filler = dir + "/filler";
  std::FILE* f = std::fopen(filler.c_str(), "wb");
  REQUIRE(f != nullptr);
  const std::string block(4096, 'x');
  while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {
  }
  std::fclose(f);
  const std::uintmax_t size = fs::file_size(filler);
  fs::resize_file(filler, size > leave ? size - leave : 0);
  return filler;
}

// Pages (4 KiB, as tmpfs allocates them) that one run folder of `snapshot` takes.
std::uintmax_t run_folder_bytes(const std::map<std::string, std::string>& files) {
  std::uintmax_t bytes = 0;
  std::string first_run;
  for (const auto& [file, content] : files) {
    if (!file.starts_with("runs/")) continue;
    const std::string run = file.substr(0, file.find('/', 5));
    if (first_run.empty()) first_run = run;
    if (run == first_run) bytes += (content.size() + 4095) / 4096 * 4096;
  }
  return bytes;
}

// Runs of a sweep folder that are complete (summary.json) and those with a CSV but no summary.
void require_consistent(const std::string& out) {
  INFO("temp files left: " << temp_files(out).size());
  REQUIRE(temp_files(out).empty());
  for (const auto& run : fs::directory_iterator(out + "/runs")) {
    const bool complete = fs::exists(run.path() / "summary.json");
    INFO(run.path().string());
    // A run without summary.json presents no CSV as if it were complete.
    if (!complete) REQUIRE_FALSE(fs::exists(run.path() / "layers.csv"));
  }
}

}  // namespace

TEST_CASE("an output folder on a full disk: clear error, nothing half-written, resumable",
          "[hostile]") {
  test::TempDir dir("hostile-disk");
  const std::string two = write_config(dir, disk_sweep({0.01, 0.02}), "two.json");
  const std::string six =
      write_config(dir, disk_sweep({0.01, 0.02, 0.03, 0.04, 0.05, 0.06}), "six.json");
  // What the six runs give with space to spare.
  REQUIRE(test::gradflow_cli("run " + six + " -q --out " + dir.file("reference")).code == 0);
  const auto reference = snapshot(dir.file("reference"));

  SECTION("a real small tmpfs, filled up") {
    const std::string mount = dir.file("disk");
    fs::create_directories(mount);
    if (std::system(("mount -t tmpfs -o size=4m tmpfs " + mount + " 2>/dev/null").c_str()) != 0) {
      WARN("cannot mount a tmpfs here (not root?); the RLIMIT_FSIZE section still runs");
      return;
    }
    struct Unmount {
      std::string path;
      ~Unmount() { (void)std::system(("umount " + path).c_str()); }
    } unmount{mount};
    const std::string out = mount + "/out";
    REQUIRE(test::gradflow_cli("run " + two + " -q --out " + out).code == 0);
    const auto before = snapshot(out);
    // Room for the new manifest and one more run, not two: the sweep fails partway.
    const std::string filler = fill_disk(mount, run_folder_bytes(reference) + 2 * 4096);

    const test::CliResult full = test::gradflow_cli("run " + six + " --out " + out + " -j 1");
    INFO(full.output);
    REQUIRE(full.code == 1);
    REQUIRE(contains(full.output, out + "/"));
    REQUIRE(contains(full.output, "No space left on device"));
    require_consistent(out);
    // The two finished runs are untouched.
    const auto after = snapshot(out);
    for (const auto& [file, bytes] : before) {
      if (!file.starts_with("runs/")) continue;  // the tables may not have been rewritten
      INFO(file);
      REQUIRE(after.count(file) == 1);
      REQUIRE(after.at(file) == bytes);
    }

    fs::remove(filler);
    const test::CliResult resumed = test::gradflow_cli("run " + six + " --out " + out + " -j 1");
    INFO(resumed.output);
    REQUIRE(resumed.code == 0);
    REQUIRE(contains(resumed.output, "6 runs finished"));
    REQUIRE(snapshot(out) == reference);
  }

  SECTION("a file size limit (RLIMIT_FSIZE), which needs no privileges") {
    constexpr int kLimitKb = 8;
    const std::string out = dir.file("out");
    REQUIRE(test::gradflow_cli("run " + two + " -q --out " + out).code == 0);
    const auto before = snapshot(out);
    // LIMIT_KB per file: the run files of these small runs fit, the sweep's layers.csv does not.
    // SIGXFSZ ignored, as the kernel then fails the write with EFBIG instead of killing us.
    const std::string command = "bash -c 'trap \"\" XFSZ; ulimit -f " + std::to_string(kLimitKb) + "; exec " +
                                std::string(GRADFLOW_BINARY) + " run " + six + " --out " + out +
                                " -j 1' 2>&1";
    std::FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string output;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
    const int status = ::pclose(pipe);
    INFO(output);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 1);
    REQUIRE(contains(output, out + "/"));
    REQUIRE(contains(output, "File too large"));
    require_consistent(out);
    const auto after = snapshot(out);
    for (const auto& [file, bytes] : before) {
      if (!file.starts_with("runs/")) continue;
      INFO(file);
      REQUIRE(after.at(file) == bytes);
    }
    const test::CliResult resumed = test::gradflow_cli("run " + six + " --out " + out + " -j 1");
    INFO(resumed.output);
    REQUIRE(resumed.code == 0);
    REQUIRE(snapshot(out) == reference);
  }
}

namespace {

bool process_done(const std::string& rc_file) { return fs::exists(rc_file); }

// Starts `gradflow <args>` in the background; its exit code lands in `rc_file` when it ends.
void start_background(const std::string& args, const std::string& rc_file,
                      const std::string& log_file) {
  const std::string command = "(" + std::string(GRADFLOW_BINARY) + " " + args + " > " +
                              log_file + " 2>&1; echo $? > " + rc_file + ".part; mv " + rc_file +
                              ".part " + rc_file + ") &";
  REQUIRE(std::system(command.c_str()) == 0);
}

}  // namespace

TEST_CASE("two gradflow processes on one output folder: the second refuses, nothing interleaves",
          "[hostile]") {
  for (const bool sweep : {false, true}) {
    test::TempDir dir(sweep ? "hostile-lock-sweep" : "hostile-lock-run");
    const std::string out = dir.file("out");
    bool overlapped = false;
    std::string config;
    // Long enough that the second process starts while the first still trains; doubled until
    // it does on a busy machine.
    for (long steps = 2000; !overlapped && steps <= 64000; steps *= 2) {
      fs::remove_all(out);
      nlohmann::json c = small_config(steps);
      c["log"]["every"] = 500;
      if (sweep) c["sweep"] = {{"train.lr", {0.01, 0.02}}};
      config = write_config(dir, c);
      const std::string rc = dir.file("a.rc");
      fs::remove(rc);
      start_background("run " + config + " -q -j 1 --out " + out, rc, dir.file("a.log"));
      // Wait until the first process holds the lock (it writes its pid into the lock file).
      const auto start = Clock::now();
      while (!process_done(rc) && seconds_since(start) < 60 &&
             (!fs::exists(out + "/.gradflow.lock") || fs::file_size(out + "/.gradflow.lock") == 0))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      const test::CliResult second = test::gradflow_cli("run " + config + " -j 1 --out " + out);
      overlapped = !process_done(rc);
      while (!process_done(rc) && seconds_since(start) < 600)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      REQUIRE(process_done(rc));
      INFO("first: " << test::read_text(dir.file("a.log")));
      REQUIRE(test::read_text(rc) == "0\n");
      if (!overlapped) continue;  // the first finished too soon: try a longer run
      INFO("second: " << second.output);
      REQUIRE(second.code == 1);
      REQUIRE(contains(second.output, out + ": another gradflow process (pid "));
      REQUIRE(contains(second.output, "is writing to this folder"));
    }
    INFO((sweep ? "sweep" : "single run"));
    REQUIRE(overlapped);
    // The folder holds exactly what one process alone writes.
    REQUIRE(test::gradflow_cli("run " + config + " -q -j 1 --out " + dir.file("alone")).code == 0);
    REQUIRE(snapshot(out) == snapshot(dir.file("alone")));
    REQUIRE(temp_files(out).empty());
  }
}
