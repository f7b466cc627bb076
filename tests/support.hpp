// Test helpers: run a config in memory and collect what training emits.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "run/run.hpp"
#include "train/train.hpp"

namespace gradflow::test {

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct Collected : TrainObserver {
  std::vector<StepRecord> steps;
  std::vector<std::vector<LayerRecord>> layers;  // one entry per logged step
  std::vector<Parameters> saved;
  void on_log(const StepRecord& s, const std::vector<LayerRecord>& l) override {
    steps.push_back(s);
    layers.push_back(l);
  }
  bool on_progress(long, long, double) override { return true; }
  void on_parameters(std::string_view, const NetworkLayout&, const Parameters& p) override {
    saved.push_back(p);
  }
};

struct InMemoryRun {
  TrainResult result;
  Collected records;
};

inline InMemoryRun run_in_memory(const Config& config) {
  const PreparedRun prepared = prepare_run(config);
  InMemoryRun run;
  run.result = train(prepared.config, prepared.data, prepared.start, run.records);
  return run;
}

// A fresh empty folder under the system temp dir, removed when the object dies.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("gradflow-test-" + tag + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the gradflow binary with `args` (shell syntax), capturing stdout and stderr together.
struct CliResult {
  int code = -1;  // exit code; -1 when killed by a signal
  std::string output;
};

// Runs a shell command line as is (for `timeout gradflow ...`), stdout and stderr together.
inline CliResult shell(const std::string& command_line) {
  const std::string command = command_line + " 2>&1";
  CliResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// `env`: variable assignments for its environment ("NAME=value ...").
inline CliResult gradflow_cli(const std::string& args, const std::string& env = "") {
  return shell((env.empty() ? "" : "env " + env + " ") + std::string(GRADFLOW_BINARY) + " " +
               args);
}

// Every file under `dir` (relative path -> bytes), except the lock file, which holds a pid.
inline std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  if (!std::filesystem::exists(dir)) return files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == ".gradflow.lock") continue;
    files[std::filesystem::relative(e.path(), dir).string()] = read_text(e.path().string());
  }
  return files;
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace gradflow::test
