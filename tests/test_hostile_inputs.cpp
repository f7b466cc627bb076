// Hostile inputs, round 2 (issue 11), through the binary: crashes, hangs and raw exceptions
// (class 1), our own CSV read back (3), wrong input accepted or right input refused (6) and
// messages that name --set and the sweep entry (7). Each case asserts the exit code, the message
// (file + JSON path or line) and what is on disk after. Output folders: test_hostile_outputs.cpp.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/csv_table.hpp"
#include "base/npy.hpp"
#include "hostile_support.hpp"

using namespace gradflow;
namespace fs = std::filesystem;

namespace {

using test::contains;
using test::require_result;
using test::snapshot;
using test::write_json;

nlohmann::json small_run() {
  return nlohmann::json::parse(R"({
    "name": "h2", "seed": 7,
    "data": {"kind": "gaussian_mixture", "train_size": 64, "probe_size": 16, "dim": 4,
             "classes": 3},
    "model": {"depth": 2, "width": 8},
    "train": {"steps": 10, "batch_size": 16},
    "log": {"every": 5}
  })");
}

nlohmann::json csv_run(const std::string& path, const std::vector<std::string>& features) {
  nlohmann::json j = small_run();
  j["data"] = {{"kind", "csv"}, {"path", path}, {"label_column", "y"}, {"probe_size", 2}};
  if (!features.empty()) j["data"]["feature_columns"] = features;
  j["train"]["batch_size"] = 2;
  return j;
}

}  // namespace

TEST_CASE("csv: quoted fields in any column hold commas, quotes and newlines", "[hostile2]") {
  test::TempDir dir("h2-quoted");
  const std::string field = GENERATE(as<std::string>{}, "\"x,z\"", "\"multi\nline\"",
                                     "\"say \"\"hi\"\"\"", "  \"padded, \"  ", "\"a\r\nb\"");
  std::string csv = "a,note,y\n";
  for (int i = 0; i < 8; ++i)
    csv += std::to_string(i) + "," + (i == 3 ? field : "plain") + "," + std::to_string(i % 2) + "\n";
  test::write_text(dir.file("d.csv"), csv);
  const std::string config = write_json(dir, csv_run("d.csv", {"a"}), "c.json");
  INFO(field);
  require_result(test::gradflow_cli("validate " + config), 0, {"valid"});
  require_result(test::gradflow_cli("run -q " + config + " --out " + dir.file("out")), 0, {});
  REQUIRE(fs::exists(dir.file("out") + "/summary.json"));
  // A quoted field in a column the network uses is still text, named by its line.
  const std::string used = write_json(dir, csv_run("d.csv", {"a", "note"}), "used.json");
  require_result(test::gradflow_cli("validate " + used), 1,
                 {dir.file("d.csv") + ": line 2, column \"note\": not a number"});
}

TEST_CASE("csv: a quote never closed names the line where its record starts", "[hostile2]") {
  test::TempDir dir("h2-unclosed");
  test::write_text(dir.file("d.csv"), "a,note,y\n1,ok,0\n2,\"open,1\n3,x,0\n");
  const std::string config = write_json(dir, csv_run("d.csv", {"a"}), "c.json");
  require_result(test::gradflow_cli("run " + config + " --out " + dir.file("out")), 1,
                 {dir.file("d.csv") + ": line 3: a quoted field is not closed"});
  REQUIRE_FALSE(fs::exists(dir.file("out")));
}

TEST_CASE("every input path is classified before it is opened: no hang, a message",
          "[hostile2]") {
  test::TempDir dir("h2-paths");
  REQUIRE(::mkfifo(dir.file("fifo").c_str(), 0600) == 0);
  fs::create_directories(dir.file("folder"));
  fs::create_symlink("loop", dir.file("loop"));
  test::write_text(dir.file("file"), "x");
  struct Case {
    std::string key, value, json_path, reason;
  };
  const Case cases[] = {
      {"data.path", dir.file("fifo"), "/data/path", "it is a FIFO (named pipe)"},
      {"data.path", "/dev/zero", "/data/path", "it is a character device"},
      {"data.path", dir.file("folder"), "/data/path", "it is a folder, not a file"},
      {"data.path", dir.file("loop"), "/data/path", "Too many levels of symbolic links"},
      {"model.init_from", dir.file("loop"), "/model/init_from", "Too many levels of symbolic"},
      {"model.init_from", dir.file("fifo"), "/model/init_from", "it is a FIFO"},
      {"model.init_from", dir.file("file"), "/model/init_from", "it is a file, not a folder"},
  };
  const std::string config = write_json(dir, csv_run("d.csv", {}), "c.json");
  test::write_text(dir.file("d.csv"), "a,y\n1,0\n2,1\n3,0\n4,1\n");
  for (const Case& c : cases) {
    for (const std::string command : {"validate", "run", "plan"}) {
      if (command == "plan" && c.key != "data.path") continue;  // plan loads no parameters
      INFO(command << " " << c.key << "=" << c.value);
      const auto start = std::chrono::steady_clock::now();
      const std::string out = command == "run" ? " --out " + dir.file("out") : "";
      require_result(test::shell("timeout 20 " + std::string(GRADFLOW_BINARY) + " " + command + " " +
                           config + " --set " + c.key + "=" + c.value + out),
                     1, {config + " (after --set " + c.key + "=" + c.value + "): " + c.json_path,
                         c.reason});
      REQUIRE(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
      REQUIRE_FALSE(fs::exists(dir.file("out")));
    }
  }
  // A config that is a FIFO nobody writes to reads as empty instead of blocking.
  require_result(test::shell("timeout 20 " + std::string(GRADFLOW_BINARY) + " validate " +
                       dir.file("fifo")),
                 1, {dir.file("fifo") + ": invalid JSON"});
  require_result(test::gradflow_cli("validate " + dir.file("folder")), 1,
                 {dir.file("folder") + ": cannot read file: it is a folder"});
}

TEST_CASE("data generation too big for memory is refused with the estimate", "[hostile2]") {
  test::TempDir dir("h2-teacher");
  // The teacher network's forward pass over every example; the mixture's class means.
  nlohmann::json teacher = small_run(), mixture = small_run();
  teacher["data"] = {{"kind", "teacher_student"}, {"train_size", 1000000},
                     {"teacher_width", 65536}, {"dim", 4}};
  teacher["train"]["loss"] = "mse";
  mixture["data"] = {{"kind", "gaussian_mixture"}, {"train_size", 16}, {"probe_size", 1},
                     {"dim", 65536}, {"classes", 65536}};
  mixture["model"]["width"] = 1;
  const std::pair<nlohmann::json, std::string> cases[] = {{teacher, "data.teacher_width"},
                                                          {mixture, "data.classes"}};
  for (const auto& [j, key] : cases) {
    const std::string config = write_json(dir, j, "c.json");
    for (const std::string command : {"validate", "plan", "run"}) {
      INFO(command << " " << key);
      const std::string out = command == "run" ? " --out " + dir.file("out") : "";
      require_result(test::gradflow_cli(command + " " + config + out), 1,
                     {config + ": /data: this run needs about", key});
      REQUIRE_FALSE(fs::exists(dir.file("out")));
    }
  }
}

TEST_CASE("classes are counted from the labels present; data.classes allows gaps",
          "[hostile2]") {
  test::TempDir dir("h2-classes");
  const std::string config = write_json(dir, csv_run("d.csv", {}), "c.json");
  struct Case {
    std::string labels;
    int code;
    std::string message;
  };
  const Case cases[] = {
      {"111111", 1, "column \"y\" has only class 1; classification needs at least 2 classes"},
      {"000000", 1, "column \"y\" has only class 0"},
      {"010310", 1, "column \"y\" has labels up to 3 but none equal to 2"},
      {"012012", 0, "valid"},
  };
  for (const Case& c : cases) {
    std::string csv = "a,y\n";
    for (std::size_t i = 0; i < c.labels.size(); ++i)
      csv += std::to_string(i) + "," + c.labels[i] + "\n";
    test::write_text(dir.file("d.csv"), csv);
    INFO(c.labels);
    require_result(test::gradflow_cli("validate " + config), c.code,
                   {c.code ? dir.file("d.csv") + ": " + c.message : c.message});
  }
  // With data.classes a gap is allowed (class 2 has no row), and a label >= it is refused.
  test::write_text(dir.file("d.csv"), "a,y\n0,0\n1,1\n2,0\n3,3\n4,1\n5,0\n");
  require_result(test::gradflow_cli("run -q " + config + " --set data.classes=4 --out " +
                                    dir.file("out")),
                 0, {});
  REQUIRE(test::read_text(dir.file("out") + "/config.json").find("\"classes\": 4") !=
          std::string::npos);
  require_result(test::gradflow_cli("validate " + config + " --set data.classes=3"), 1,
                 {dir.file("d.csv") + ": line 5, column \"y\": class label \"3\" is not below "
                                      "data.classes = 3"});
}

TEST_CASE("a NUL byte in a config is refused; seed -0 is 0", "[hostile2]") {
  test::TempDir dir("h2-nul");
  const std::string text = small_run().dump();
  test::write_text(dir.file("nul.json"), text + std::string(1, '\0') + "{\"seed\": 1}");
  require_result(test::gradflow_cli("run " + dir.file("nul.json") + " --out " + dir.file("out")),
                 1, {dir.file("nul.json") + ": invalid JSON at line 1, column " +
                         std::to_string(text.size() + 1) + ": a NUL byte"});
  REQUIRE_FALSE(fs::exists(dir.file("out")));
  // A NUL byte inside a path string would name another file where the system reads it.
  for (const std::string key : {"data.path", "model.init_from"}) {
    INFO(key);
    require_result(test::gradflow_cli("validate " + write_json(dir, small_run(), "c.json") +
                                      " --set '" + key + "=\"a.csv\\u0000b\"'"),
                   1, {"/" + key.substr(0, key.find('.')) + "/" + key.substr(key.find('.') + 1) +
                           ": expected a path, got \"a.csv\\u0000b\", which holds a NUL byte"});
  }
  for (const std::string seed : {"-0", "-0.0"}) {
    nlohmann::json j = small_run();
    j.erase("seed");
    test::write_text(dir.file("s.json"), "{\"seed\": " + seed + ", " + j.dump().substr(1));
    INFO(seed);
    require_result(test::gradflow_cli("validate " + dir.file("s.json")), 0, {"valid"});
    require_result(test::gradflow_cli("validate " + dir.file("s.json") + " --set data.seed=" +
                                      seed),
                   0, {"valid"});
  }
}

TEST_CASE("command-line numbers: finite, in range, with our own message (exit 2, usage)",
          "[hostile2]") {
  test::TempDir dir("h2-numbers");
  const std::string config = write_json(dir, small_run(), "c.json");
  struct Case {
    std::string args, message;
    int code;
  };
  const Case cases[] = {
      {"compare a b --rtol nan", "--rtol: expected a finite number >= 0, got \"nan\"", 2},
      {"compare a b --atol inf", "--atol: expected a finite number >= 0, got \"inf\"", 2},
      {"compare a b --rtol -1", "--rtol: expected a finite number >= 0, got \"-1\"", 2},
      {"compare a b --max-lines x", "--max-lines: expected an integer >= 0, got \"x\"", 2},
      {"run " + config + " -j -1", "--jobs: expected an integer >= 1, got \"-1\"", 2},
      {"run " + config + " --jobs=0", "--jobs: expected an integer >= 1, got \"0\"", 2},
      {"report a --max-runs 0", "--max-runs: expected an integer >= 1, got \"0\"", 2},
      {"report a --max-groups 1e3", "--max-groups: expected an integer >= 1, got \"1e3\"", 2},
      {"run " + config + " -j ''", "--jobs: expected an integer >= 1, got \"\"", 2},
      {"run " + config + " -j 1.5", "--jobs: expected an integer >= 1, got \"1.5\"", 2},
      {"submit " + config + " --out x --array-size 0",
       "--array-size: expected an integer >= 1, got \"0\"", 2},
      {"submit " + config + " --out x --cpus-per-task -2",
       "--cpus-per-task: expected an integer >= 1, got \"-2\"", 2},
  };
  for (const Case& c : cases) {
    const test::CliResult r = test::gradflow_cli(c.args);
    INFO(c.args << "\n" << r.output);
    REQUIRE(r.code == c.code);
    REQUIRE(contains(r.output, "gradflow: error: " + c.message));
    REQUIRE_FALSE(contains(r.output, "not in range"));
    REQUIRE_FALSE(fs::exists("x"));
  }
}

TEST_CASE("an error caused by --set says so; a bad swept value names its sweep entry",
          "[hostile2]") {
  test::TempDir dir("h2-messages");
  const std::string config = write_json(dir, small_run(), "c.json");
  require_result(test::gradflow_cli("run " + config + " --set model.depth=0 --set train.lr=0.1" +
                                    " --out " + dir.file("out")),
                 1, {config + " (after --set model.depth=0): /model/depth: expected an integer "
                              ">= 1, got 0"});
  REQUIRE_FALSE(fs::exists(dir.file("out")));
  // Swept data files: the second is missing; every command names /sweep/data.path/1.
  test::write_text(dir.file("a.csv"), "a,y\n1,0\n2,1\n3,0\n4,1\n");
  nlohmann::json j = csv_run("a.csv", {});
  j["sweep"] = {{"data.path", {"a.csv", "missing.csv"}}};
  const std::string sweep = write_json(dir, j, "s.json");
  for (const std::string command : {"validate", "plan", "run"}) {
    INFO(command);
    const std::string out = command == "run" ? " --out " + dir.file("out") : "";
    require_result(test::gradflow_cli(command + " " + sweep + out), 1,
                   {sweep + ": /sweep/data.path/1: data.path = \"missing.csv\": /data/path: "
                            "cannot read " + dir.file("missing.csv") + ": No such file"});
    REQUIRE_FALSE(fs::exists(dir.file("out")));
  }
}

TEST_CASE("validate checks every run as run does: a later run's memory, data and weights",
          "[hostile2]") {
  test::TempDir dir("h2-validate");
  // NaN initial weights in the second run's init_from folder.
  nlohmann::json good = small_run();
  good["log"]["save_params"] = true;
  REQUIRE(test::gradflow_cli("run -q " + write_json(dir, good, "g.json") + " --out " +
                             dir.file("good")).code == 0);
  fs::copy(dir.file("good") + "/params_init", dir.file("nan"));
  MatD w = read_npy(dir.file("nan") + "/W2.npy");
  w(0, 0) = std::nan("");
  write_npy(dir.file("nan") + "/W2.npy", w, false);
  struct Case {
    nlohmann::json sweep;
    std::string message;
  };
  const Case cases[] = {
      {{{"model.width", {8, 65536}}, {"model.depth", {2, 1000}}},
       "/model: this run needs about"},
      {{{"model.init_from", {dir.file("good") + "/params_init", dir.file("nan")}}},
       "/sweep/model.init_from/1: model.init_from = \"" + dir.file("nan") +
           "\": /model/init_from: " + dir.file("nan") + "/W2.npy contains NaN or Inf"},
  };
  for (const Case& c : cases) {
    nlohmann::json j = small_run();
    j["sweep"] = c.sweep;
    const std::string config = write_json(dir, j, "s.json");
    INFO(c.sweep.dump());
    require_result(test::gradflow_cli("validate " + config), 1, {config + ": ", c.message});
  }
  // plan reports the memory refusal run and validate give.
  require_result(test::gradflow_cli("plan " + write_json(dir, small_run(), "c.json") +
                                    " --set model.depth=1000 --set model.width=4096"),
                 1, {"(after --set model.depth=1000 --set model.width=4096): /model: this run "
                     "needs about"});
}

TEST_CASE("what gradflow writes it reads back: hostile strings in runs.csv", "[hostile2]") {
  const std::vector<std::string> hostile = {
      "a,b", "say \"hi\"", "new\nline", "cr\rx", "crlf\r\n", "tab\tx", " padded ", "\ttab-led",
      "unicodé ✓ 日本", "<script>alert(1)</script>", "", "\"", ",", "\n"};
  // The reader and csv_field directly: every string, as a cell among others.
  std::string text = "id,value,tail\n";
  for (std::size_t i = 0; i < hostile.size(); ++i)
    text += std::to_string(i) + "," + csv_field(hostile[i]) + ",end\n";
  const CsvTable table = parse_csv_table(text, "t.csv");
  REQUIRE(table.rows.size() == hostile.size());
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    INFO(i << ": " << hostile[i]);
    REQUIRE(table.rows[i][1] == hostile[i]);
    REQUIRE(table.rows[i][2] == "end");
  }

  // Through the binary: a sweep zipping a hostile description with the seed.
  test::TempDir dir("h2-roundtrip");
  nlohmann::json j = small_run();
  std::vector<nlohmann::json> seeds;
  for (std::size_t i = 0; i < hostile.size(); ++i) seeds.push_back(i);
  j["sweep"] = {{"zip", {{{"description", hostile}, {"seed", seeds}}}}};
  const std::string config = write_json(dir, j, "s.json");
  const std::string out = dir.file("out");
  require_result(test::gradflow_cli("run -q " + config + " --out " + out), 0, {});
  const CsvTable runs = read_csv_table(out + "/runs.csv");
  const std::size_t column = require_column(runs, "description");
  REQUIRE(runs.rows.size() == hostile.size());
  for (std::size_t i = 0; i < hostile.size(); ++i) REQUIRE(runs.rows[i][column] == hostile[i]);
  require_result(test::gradflow_cli("summarize " + out), 0, {"run_id"});
  require_result(test::gradflow_cli("compare " + out + " " + out), 0, {});
  require_result(test::gradflow_cli("report " + out), 0, {"report written"});
  const std::string html = test::read_text(out + "/report.html");
  REQUIRE_FALSE(contains(html, "<script>alert(1)</script>"));
}
