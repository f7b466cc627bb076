// Helpers shared by the hostile-input tests through the binary (test_hostile_inputs.cpp,
// test_hostile_outputs.cpp): a config written to a file, and one check of exit code + message.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support.hpp"

namespace gradflow::test {

inline std::string write_json(const TempDir& dir, const nlohmann::json& j,
                              const std::string& name) {
  write_text(dir.file(name), j.dump(2));
  return dir.file(name);
}

inline void require_result(const CliResult& r, int code, const std::vector<std::string>& parts) {
  INFO(r.output);
  REQUIRE(r.code == code);
  for (const std::string& p : parts) REQUIRE(contains(r.output, p));
}

}  // namespace gradflow::test
