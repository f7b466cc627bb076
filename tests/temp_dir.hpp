// A fresh folder under the system temp directory, removed with everything in it at scope exit,
// for tests that write their own input files.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

namespace gradflow::testing {

struct TempDir {
  std::filesystem::path path;

  explicit TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    // pid + counter: unique across concurrently running test binaries and within one.
    path = std::filesystem::temp_directory_path() /
           ("gradflow-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `content` to `name` inside the folder and returns the full path.
  std::string write(const std::string& name, const std::string& content) const {
    const std::filesystem::path file = path / name;
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

}  // namespace gradflow::testing
