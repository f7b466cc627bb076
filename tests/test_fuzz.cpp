// Replays every input in fuzz/regressions/ (inputs that once crashed, hung or tripped a
// sanitizer in fuzz/config_fuzzer.cpp, minimized) through the same front end the fuzzer runs,
// so a fixed bug stays fixed; and checks that the fuzzer's seeds pass it cleanly.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "front_end.hpp"
#include "support.hpp"

using namespace gradflow;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("inputs that once broke the config front end now end in a clear error or a plan",
          "[fuzz]") {
  const fs::path dir = fs::path(GRADFLOW_SOURCE_DIR) / "fuzz" / "regressions";
  for (const fs::path& input : files_in(dir)) {
    const auto start = std::chrono::steady_clock::now();
    // A crash, a sanitizer report or an exception other than InputError fails the test here.
    const std::string error = fuzz::run_front_end(test::read_text(input.string()), "fuzz.json");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(input.filename().string() << ": " << (error.empty() ? "(valid)" : error) << ", "
                                   << seconds << " s");
    CHECK(seconds < 10);
    // Each regression file names its expectation: "<name>.error" inputs must be refused.
    if (input.filename().string().find(".error") != std::string::npos) CHECK_FALSE(error.empty());
  }
}

TEST_CASE("every shipped config passes the fuzzer's front end, with and without --set",
          "[fuzz]") {
  const fs::path root(GRADFLOW_SOURCE_DIR);
  std::vector<fs::path> configs = files_in(root / "configs");
  for (const fs::path& p : files_in(root / "configs" / "regression")) configs.push_back(p);
  REQUIRE(configs.size() >= 5);
  for (const fs::path& config : configs) {
    const std::string text = test::read_text(config.string());
    INFO(config.string());
    CHECK(fuzz::run_front_end(text, config.string()) == "");
    CHECK(fuzz::run_front_end(text + "\0model.depth=3\0sweep.seeds=2"s,
                              config.string()) == "");
    // A broken override is refused by name (depth may be 0 behind a model.conv stem).
    const bool conv = Json::parse(text)["model"].contains("conv");
    CHECK_THAT(fuzz::run_front_end(text + "\0model.depth=-1"s, config.string()),
               Catch::Matchers::Contains(std::string("/model/depth: expected an integer >= ") +
                                         (conv ? "0" : "1") + ", got -1"));
  }
}
