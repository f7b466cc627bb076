// libFuzzer target over the .npy reader (parse_npy, behind model.init_from): bad input must end
// in an InputError naming the file; any other exception, a crash, a hang or a sanitizer report
// is a bug, and so is an array that does not survive npy_bytes + parse_npy bit for bit.
// Build and run: scripts/fuzz.sh [SECONDS] npy_fuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "base/errors.hpp"
#include "base/npy.hpp"

namespace {

[[noreturn]] void invariant_broken(const char* what) {
  std::fprintf(stderr, "npy reader: %s\n", what);
  std::abort();
}

// NaN payloads and -0.0 must survive too: compare bits, not values.
bool same_bits(const gradflow::MatD& a, const gradflow::MatD& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         (a.size() == 0 ||
          std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  gradflow::MatD m;
  try {
    m = gradflow::parse_npy(bytes, "fuzz.npy");
  } catch (const gradflow::InputError& e) {
    if (std::string_view(e.what()).empty()) invariant_broken("an InputError without text");
    return 0;
  }
  // What we read, we write and read back unchanged.
  try {
    if (!same_bits(m, gradflow::parse_npy(gradflow::npy_bytes(m, false), "again.npy")))
      invariant_broken("npy_bytes + parse_npy changed the array");
  } catch (const gradflow::InputError&) {
    invariant_broken("an array read from .npy does not read back once written");
  }
  return 0;
}
