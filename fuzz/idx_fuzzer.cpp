// libFuzzer target over the IDX reader (harness/data/idx.cpp): gzip inflate through zlib, then
// the header and size checks. Bad input must end in an InputError; any other exception, a
// crash, a hang or a sanitizer report is a bug. Build and run: scripts/fuzz.sh SECONDS idx.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/errors.hpp"
#include "data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    // The same choice read_idx_file makes: gzip magic 1f 8b, else plain.
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) bytes = gradflow::gunzip(bytes, "fuzz");
    const gradflow::IdxArray a = gradflow::parse_idx(std::move(bytes), "fuzz");
    // Read every value, as the loaders do: parse_idx promised they are all there.
    const long n = a.count() * a.item_size();
    double sum = 0;
    for (long i = 0; i < n; ++i) sum += a.value(i);
    volatile double sink = sum;
    (void)sink;
  } catch (const gradflow::InputError&) {
  }
  return 0;
}
