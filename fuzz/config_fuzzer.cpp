// libFuzzer target over the config front end (fuzz/front_end.hpp): bad input must end in an
// InputError; any other exception, a crash, a hang or a sanitizer report is a bug.
// Build and run: scripts/fuzz.sh [SECONDS].
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "front_end.hpp"

namespace {

// Configs name data files relative to their folder: give the fuzzer a folder holding one small
// CSV, so csv configs get past "cannot read" into the loader. Removed at exit.
struct ConfigFolder {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("gradflow-fuzz-" + std::to_string(::getpid()));
  std::string config = (dir / "fuzz.json").string();
  ConfigFolder() {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "data.csv") << "a,b,label\n0.5,1,0\n-1,2,1\n3,0.25,0\n1,1,1\n";
  }
  ~ConfigFolder() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

const std::string& config_path() {
  static const ConfigFolder folder;
  return folder.config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)gradflow::fuzz::run_front_end(input, config_path());
  return 0;
}
