// .npy reading and writing, following the format specification in numpy's
// numpy/lib/format.py ("A Simple File Format for NumPy Arrays", NEP 1).
#include "base/npy.hpp"

#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>

#include "base/atomic_file.hpp"
#include "base/errors.hpp"
#include "base/path_kind.hpp"

namespace gradflow {
namespace {

// Our byte copies assume a little-endian host; every machine we run on is one.
static_assert(std::endian::native == std::endian::little, "npy I/O assumes little-endian");

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
// numpy pads magic + header to a multiple of 64 bytes (ARRAY_ALIGN in format.py), so the data
// is aligned for memory mapping.
constexpr std::size_t kAlign = 64;

// ---- the header dictionary, e.g. {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
// numpy writes it with Python's repr(); this reads the subset of Python literal syntax that
// can appear there: quoted strings, True/False, and tuples of non-negative integers.

struct Header {
  std::optional<std::string> descr;
  std::optional<bool> fortran_order;
  std::optional<std::vector<std::uint64_t>> shape;
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  Header parse() {
    Header h;
    expect('{');
    while (!peek('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        if (!peek('\'') && !peek('"'))
          fail("unsupported dtype (structured arrays are not supported): expected '<f8' or '<f4'");
        h.descr = string_literal();
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
      } else if (key == "shape") {
        h.shape = tuple();
      } else {
        fail("unexpected key '" + key + "' in the header");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(file_, "", "bad .npy header: " + what);
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(std::string("expected '") + c + "' at offset " + std::to_string(pos_));
    ++pos_;
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      fail("expected a quoted string at offset " + std::to_string(pos_));
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.substr(pos_).starts_with(word)) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    fail("fortran_order must be True or False");
  }
  std::vector<std::uint64_t> tuple() {
    std::vector<std::uint64_t> dims;
    expect('(');
    while (!peek(')')) {
      std::uint64_t dim = 0;
      bool any = false;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        if (dim > (std::uint64_t{1} << 48)) fail("shape dimension too large");
        dim = dim * 10 + static_cast<std::uint64_t>(text_[pos_++] - '0');
        any = true;
      }
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long literals
      if (!any) fail("shape must be a tuple of non-negative integers");
      dims.push_back(dim);
      if (!peek(')')) expect(',');
    }
    expect(')');
    return dims;
  }

  std::string_view text_;
  const std::string& file_;
  std::size_t pos_ = 0;
};

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// Classified before it is opened (a FIFO would block), and refused before it is read when it
// is larger than the caller can use.
std::string read_whole_file(const std::string& path, std::uintmax_t max_bytes) {
  const PathInfo info = inspect_path(path);
  if (const std::string problem = regular_file_problem(info); !problem.empty())
    throw InputError(path, "", "cannot read: " + problem);
  if (info.size > max_bytes)
    throw InputError(path, "",
                     "the file has " + std::to_string(info.size) + " bytes, more than the " +
                         std::to_string(max_bytes) + " an array of the expected shape takes");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(path, "",
                     std::string("cannot read: ") + (errno ? std::strerror(errno) : "cannot open"));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path, "", "read failed");
  return bytes;
}

std::uint32_t little_endian(std::string_view bytes, std::size_t offset, std::size_t width) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < width; ++i)
    v |= std::uint32_t(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  return v;
}

// Copies `rows * cols` elements of type T stored in C or Fortran order into a double matrix.
template <class T>
MatD decode(const char* data, long rows, long cols, bool fortran_order) {
  Mat<T> values(rows, cols);
  if (values.size() == 0) return MatD(rows, cols);  // memcpy must not see Eigen's null data
  if (fortran_order || rows == 1 || cols == 1) {
    std::memcpy(values.data(), data, sizeof(T) * static_cast<std::size_t>(rows * cols));
  } else {
    Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> c_order(rows, cols);
    std::memcpy(c_order.data(), data, sizeof(T) * static_cast<std::size_t>(rows * cols));
    values = c_order;
  }
  return values.template cast<double>();
}

}  // namespace

std::string npy_bytes(const MatD& m, bool as_vector) {
  GF_ASSERT(!as_vector || m.cols() == 1 || m.rows() == 1);
  const auto count = [](long n) { return static_cast<std::uint64_t>(n); };
  const std::string shape =
      as_vector ? shape_text({count(m.size())}) : shape_text({count(m.rows()), count(m.cols())});
  std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
  // magic (6) + version (2) + header length (2) + dict + padding + '\n' is a multiple of 64.
  const std::size_t unpadded = kMagicSize + 4 + dict.size() + 1;
  dict.append((kAlign - unpadded % kAlign) % kAlign, ' ');
  dict += '\n';
  GF_ASSERT(dict.size() < 65536);

  std::string bytes(kMagic, kMagicSize);
  bytes += '\x01';  // format version 1.0
  bytes += '\x00';
  bytes += static_cast<char>(dict.size() & 0xff);
  bytes += static_cast<char>(dict.size() >> 8);
  bytes += dict;

  // C order: element (i, j) at i * cols + j, which is the column-major storage of m^T. An empty
  // matrix has null data, and transposing one of shape (10^9, 0) would still loop 10^9 times.
  if (m.size() > 0) {
    const MatD c_order = m.transpose();
    bytes.append(reinterpret_cast<const char*>(c_order.data()),
                 sizeof(double) * static_cast<std::size_t>(c_order.size()));
  }
  return bytes;
}

void write_npy(const std::string& path, const MatD& m, bool as_vector) {
  write_file_atomic(path, npy_bytes(m, as_vector));
}

std::uint64_t NpyArray::count() const {
  std::uint64_t n = 1;
  for (std::uint64_t d : shape) n *= d;
  return n;
}

namespace {

// Element width in bytes of a supported dtype, or 0.
std::size_t dtype_width(const std::string& d) {
  if (d == "<f8" || d == "<i8" || d == "<u8") return 8;
  if (d == "<f4" || d == "<i4" || d == "<u4") return 4;
  if (d == "<i2" || d == "<u2") return 2;
  if (d == "|u1" || d == "|i1" || d == "<u1" || d == "<i1") return 1;
  return 0;
}

template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

double NpyArray::value(std::uint64_t i) const {
  const std::size_t w = dtype_width(descr);
  const char* p = bytes.data() + data_offset + i * w;
  const char kind = descr[1];
  if (kind == 'f') return w == 8 ? load<double>(p) : load<float>(p);
  if (kind == 'i') {
    switch (w) {
      case 1:
        return load<std::int8_t>(p);
      case 2:
        return load<std::int16_t>(p);
      case 4:
        return load<std::int32_t>(p);
      default:
        return double(load<std::int64_t>(p));
    }
  }
  switch (w) {
    case 1:
      return load<std::uint8_t>(p);
    case 2:
      return load<std::uint16_t>(p);
    case 4:
      return load<std::uint32_t>(p);
    default:
      return double(load<std::uint64_t>(p));
  }
}

NpyArray read_npy_array(const std::string& path, std::uintmax_t max_bytes) {
  return parse_npy_array(read_whole_file(path, max_bytes), path);
}

NpyArray parse_npy_array(std::string file_bytes, const std::string& path) {
  NpyArray a;
  a.bytes = std::move(file_bytes);
  const std::string& bytes = a.bytes;
  if (bytes.size() < kMagicSize + 2 || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0)
    throw InputError(path, "", "not a .npy file (it does not start with \"\\x93NUMPY\")");
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  // Version 1.0 stores the header length in 2 bytes; 2.0 and 3.0 (UTF-8 header) in 4.
  if (major < 1 || major > 3)
    throw InputError(
        path, "",
        "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  const std::size_t length_width = major == 1 ? 2 : 4;
  const std::size_t header_start = kMagicSize + 2 + length_width;
  if (bytes.size() < header_start) throw InputError(path, "", "truncated .npy header");
  const std::size_t header_len = little_endian(bytes, kMagicSize + 2, length_width);
  if (bytes.size() - header_start < header_len) throw InputError(path, "", "truncated .npy header");

  const Header h =
      HeaderParser(std::string_view(bytes).substr(header_start, header_len), path).parse();
  if (!h.descr || !h.fortran_order || !h.shape)
    throw InputError(path, "",
                     "bad .npy header: 'descr', 'fortran_order' and 'shape' are required");
  a.descr = *h.descr;
  a.fortran_order = *h.fortran_order;
  a.shape = *h.shape;
  a.data_offset = header_start + header_len;
  const std::uint64_t element = dtype_width(a.descr);
  if (element == 0)
    throw InputError(path, "",
                     "unsupported dtype '" + a.descr +
                         "': expected float64, float32 or an integer type, little-endian "
                         "('<f8', '<f4', '|u1', '<i4', '<i8', ...)");
  const std::uint64_t available = bytes.size() - a.data_offset;
  // The product can overflow for a hostile shape (each dimension is < 2^53).
  bool overflow = false;
  std::uint64_t needed = element;
  for (std::uint64_t d : a.shape) {
    if (d != 0 && needed > std::numeric_limits<std::uint64_t>::max() / d) overflow = true;
    needed = overflow ? 0 : needed * d;
  }
  if (overflow || needed != available)
    throw InputError(path, "",
                     "file size does not match shape " + shape_text(a.shape) + " of '" + a.descr +
                         "': expected " + (overflow ? "over 2^64" : std::to_string(needed)) +
                         " data bytes, found " + std::to_string(available) +
                         (overflow || available < needed ? " (truncated)" : ""));
  return a;
}

MatD read_npy(const std::string& path, std::uintmax_t max_bytes) {
  return npy_matrix(read_npy_array(path, max_bytes), path);
}

MatD parse_npy(std::string_view bytes, const std::string& path) {
  return npy_matrix(parse_npy_array(std::string(bytes), path), path);
}

MatD npy_matrix(const NpyArray& a, const std::string& path) {
  const bool is_f8 = a.descr == "<f8";
  if (!is_f8 && a.descr != "<f4")
    throw InputError(path, "",
                     "unsupported dtype '" + a.descr +
                         "': expected '<f8' (float64) or '<f4' (float32), little-endian");
  const std::vector<std::uint64_t>& shape = a.shape;
  if (shape.size() != 1 && shape.size() != 2)
    throw InputError(path, "",
                     "unsupported shape " + shape_text(shape) + ": expected a 1-D or 2-D array");
  const std::uint64_t rows = shape[0], cols = shape.size() == 2 ? shape[1] : 1;
  const char* data = a.bytes.data() + a.data_offset;
  const long r = static_cast<long>(rows), c = static_cast<long>(cols);
  return is_f8 ? decode<double>(data, r, c, a.fortran_order)
               : decode<float>(data, r, c, a.fortran_order);
}

}  // namespace gradflow
