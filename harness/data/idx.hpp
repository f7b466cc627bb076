// IDX files (LeCun et al.'s MNIST format, also Fashion-MNIST's): a big-endian header
// {0, 0, type, ndim, ndim x uint32 dims} followed by the values, optionally gzip-compressed.
// Parsing is separate from file I/O so the fuzzer (fuzz/idx_fuzzer.cpp) can reach all of it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

// The element types of the IDX format (third magic byte).
enum class IdxType : std::uint8_t {
  u8 = 0x08,
  i8 = 0x09,
  i16 = 0x0B,
  i32 = 0x0C,
  f32 = 0x0D,
  f64 = 0x0E
};

struct IdxArray {
  IdxType type = IdxType::u8;
  std::vector<long> dims;  // dims[0] is the item count
  std::string bytes;       // the decompressed file
  std::size_t header = 0;  // the values (big-endian) start at bytes[header]
  const unsigned char* values() const {
    return reinterpret_cast<const unsigned char*>(bytes.data()) + header;
  }
  long count() const { return dims.empty() ? 0 : dims[0]; }
  long item_size() const;      // product of dims[1..]: 784 for 28x28 images, 1 for labels
  double value(long i) const;  // element i as double (any type)
};

// Decompresses a gzip stream (RFC 1952; several members are read one after another) with zlib.
// Throws InputError naming `file`, with the compressed byte offset and zlib's message, for a
// corrupt or truncated stream.
std::string gunzip(std::string_view compressed, const std::string& file);

// Parses IDX bytes (already decompressed). Throws InputError naming `file` for a wrong magic
// number, an unknown type, a zero or oversized dimension, or a size that does not match.
IdxArray parse_idx(std::string bytes, const std::string& file);

// Reads `path` (gzip-compressed when it starts with the gzip magic 1f 8b, else plain) and
// parses it. Throws InputError naming the file.
IdxArray read_idx_file(const std::string& path);

}  // namespace gradflow
