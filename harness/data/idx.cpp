// IDX reading; see idx.hpp. Format: http://yann.lecun.com/exdb/mnist/ ("FILE FORMATS FOR THE
// MNIST DATABASE"); gzip through zlib's inflate (RFC 1950-1952), never by hand.
#include "data/idx.hpp"

#include <zlib.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "base/errors.hpp"

namespace gradflow {
namespace {

constexpr std::size_t kMaxIdxBytes = std::size_t{1} << 36;  // 64 GiB: far past any real file

std::size_t element_size(IdxType t) {
  switch (t) {
    case IdxType::u8:
    case IdxType::i8:
      return 1;
    case IdxType::i16:
      return 2;
    case IdxType::i32:
    case IdxType::f32:
      return 4;
    case IdxType::f64:
      return 8;
  }
  return 0;
}

bool known_type(unsigned t) {
  return t == 0x08 || t == 0x09 || t == 0x0B || t == 0x0C || t == 0x0D || t == 0x0E;
}

std::uint64_t big_endian(const unsigned char* p, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = (v << 8) | p[i];
  return v;
}

std::string read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw InputError(path, "", "cannot read: not a regular file");
  errno = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    throw InputError(path, "",
                     std::string("cannot read: ") + (errno ? std::strerror(errno) : "cannot open"));
  std::string bytes;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec) bytes.resize(static_cast<std::size_t>(size));
  const std::size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed || got != bytes.size()) throw InputError(path, "", "read failed");
  return bytes;
}

}  // namespace

long IdxArray::item_size() const {
  long n = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

double IdxArray::value(long i) const {
  const unsigned char* p = values() + std::size_t(i) * element_size(type);
  switch (type) {
    case IdxType::u8:
      return p[0];
    case IdxType::i8:
      return static_cast<std::int8_t>(p[0]);
    case IdxType::i16:
      return static_cast<std::int16_t>(big_endian(p, 2));
    case IdxType::i32:
      return static_cast<std::int32_t>(big_endian(p, 4));
    case IdxType::f32:
      return std::bit_cast<float>(static_cast<std::uint32_t>(big_endian(p, 4)));
    case IdxType::f64:
      return std::bit_cast<double>(big_endian(p, 8));
  }
  return 0;
}

std::string gunzip(std::string_view compressed, const std::string& file) {
  std::string out;
  // The trailer's ISIZE is the last member's length mod 2^32: a hint for one allocation
  // (capped, since a hostile file can claim anything; inflate grows the buffer past it).
  if (compressed.size() >= 18) {
    const auto* t =
        reinterpret_cast<const unsigned char*>(compressed.data() + compressed.size() - 4);
    const std::size_t isize = std::size_t(t[0]) | std::size_t(t[1]) << 8 | std::size_t(t[2]) << 16 |
                              std::size_t(t[3]) << 24;
    out.resize(std::min<std::size_t>(isize, 1032 * compressed.size()) + 1);
  } else {
    out.resize(1024);
  }
  z_stream z{};
  // 16 + MAX_WBITS: a gzip header and trailer (CRC-32 and length are checked by zlib).
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    throw InputError(file, "", "zlib could not start inflating");
  std::size_t produced = 0, consumed = 0;
  int rc = Z_OK;
  const auto fail = [&](const std::string& what) {
    inflateEnd(&z);
    throw InputError(file, "", what);
  };
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= kMaxIdxBytes) fail("decompresses to more than 64 GiB");
      out.resize(std::min(kMaxIdxBytes, out.size() * 2));
    }
    // zlib counts in 32-bit unsigned: feed and drain at most 1 GiB per call.
    const std::size_t in_left = compressed.size() - consumed, out_left = out.size() - produced;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + consumed));
    z.avail_in = static_cast<uInt>(std::min<std::size_t>(in_left, 1u << 30));
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(std::min<std::size_t>(out_left, 1u << 30));
    const uInt in_before = z.avail_in, out_before = z.avail_out;
    rc = inflate(&z, Z_NO_FLUSH);
    consumed += in_before - z.avail_in;
    produced += out_before - z.avail_out;
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (gzip's concatenation); anything else is garbage.
      if (consumed == compressed.size()) break;
      if (compressed.size() - consumed < 2 ||
          static_cast<unsigned char>(compressed[consumed]) != 0x1f ||
          static_cast<unsigned char>(compressed[consumed + 1]) != 0x8b)
        fail("unexpected bytes after the gzip stream at byte offset " + std::to_string(consumed));
      inflateReset(&z);
      continue;
    }
    if (rc == Z_BUF_ERROR && consumed == compressed.size())
      fail("truncated gzip stream: it ends at byte offset " + std::to_string(consumed) +
           " before the end of the compressed data (" + std::to_string(produced) +
           " bytes decompressed)");
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      fail("corrupt gzip stream near byte offset " + std::to_string(consumed) + ": zlib says \"" +
           (z.msg ? z.msg : zError(rc)) + "\"");
  }
  inflateEnd(&z);
  out.resize(produced);
  return out;
}

IdxArray parse_idx(std::string bytes, const std::string& file) {
  IdxArray a;
  a.bytes = std::move(bytes);
  const auto* p = reinterpret_cast<const unsigned char*>(a.bytes.data());
  const std::size_t size = a.bytes.size();
  if (size < 4 || p[0] != 0 || p[1] != 0 || !known_type(p[2]) || p[3] == 0) {
    char magic[16] = "(too short)";
    if (size >= 4)
      std::snprintf(magic, sizeof magic, "%02x %02x %02x %02x", p[0], p[1], p[2], p[3]);
    throw InputError(file, "",
                     std::string("not an IDX file: wrong magic number ") + magic +
                         " (expected 00 00, a type byte 08/09/0b/0c/0d/0e and a dimension count "
                         ">= 1, e.g. 00 00 08 03 for images, 00 00 08 01 for labels)");
  }
  a.type = static_cast<IdxType>(p[2]);
  const std::size_t ndim = p[3];
  const std::size_t header = 4 + 4 * ndim;
  if (size < header)
    throw InputError(file, "",
                     "truncated IDX header: " + std::to_string(ndim) + " dimensions need " +
                         std::to_string(header) + " bytes, the file has " + std::to_string(size));
  std::uint64_t count = 1;
  for (std::size_t d = 0; d < ndim; ++d) {
    const std::uint64_t dim = big_endian(p + 4 + 4 * d, 4);
    if (dim == 0) throw InputError(file, "", "IDX dimension " + std::to_string(d + 1) + " is 0");
    // Checked before multiplying: count (<= 2^36) times a dim (< 2^32) can pass 2^64 and wrap
    // to a small number, even 0, which the size check below would then accept.
    if (dim > kMaxIdxBytes / count)
      throw InputError(file, "", "IDX dimensions describe more than 64 GiB of values");
    count *= dim;
    a.dims.push_back(static_cast<long>(dim));
  }
  const std::uint64_t need = count * element_size(a.type);
  if (size - header != need)
    throw InputError(file, "",
                     "IDX size mismatch: the header's dimensions need " + std::to_string(need) +
                         " bytes of values, the file has " + std::to_string(size - header) +
                         (size - header < need ? " (truncated)" : " (extra bytes at the end)"));
  a.header = header;
  return a;
}

IdxArray read_idx_file(const std::string& path) {
  std::string bytes = read_file_bytes(path);
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
      static_cast<unsigned char>(bytes[1]) == 0x8b)
    bytes = gunzip(bytes, path);
  return parse_idx(std::move(bytes), path);
}

}  // namespace gradflow
