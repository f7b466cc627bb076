// .npy files: exact round trips, the on-disk layout numpy expects, the header variants numpy
// writes, and errors that name the file. numpy itself checks our files when it is installed.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "base/errors.hpp"
#include "base/npy.hpp"
#include "support.hpp"

using namespace gradflow;
using gradflow::test::TempDir;

namespace {

// Writes `content` to `name` in `dir`; returns the file's path.
std::string write_file(const TempDir& dir, const std::string& name, const std::string& content) {
  test::write_text(dir.file(name), content);
  return dir.file(name);
}

// Bit-for-bit equality, so -0.0 and 0.0 differ.
bool bitwise_equal(const MatD& a, const MatD& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}

// A .npy file by hand: magic, version major.0, header length (2 bytes for 1.0, else 4), the
// dict padded to 64 bytes, then `payload`.
std::string npy_bytes(int major, std::string dict, const std::string& payload) {
  const std::size_t length_width = major == 1 ? 2 : 4;
  dict.append((64 - (8 + length_width + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  std::string s("\x93NUMPY", 6);
  s += char(major);
  s += '\0';
  for (std::size_t i = 0; i < length_width; ++i) s += char((dict.size() >> (8 * i)) & 0xff);
  return s + dict + payload;
}

template <class T>
std::string raw(std::initializer_list<T> values) {
  return std::string(reinterpret_cast<const char*>(values.begin()), sizeof(T) * values.size());
}

// 3 x 4 with element (i, j) = 10 i + j, plus values that expose any rounding or sign loss.
MatD sample_matrix() {
  MatD m(3, 4);
  for (long i = 0; i < 3; ++i)
    for (long j = 0; j < 4; ++j) m(i, j) = 10.0 * double(i) + double(j);
  m(0, 0) = -0.0;
  m(1, 1) = 0.1;
  m(2, 2) = std::numeric_limits<double>::denorm_min();
  m(2, 3) = std::numeric_limits<double>::max();
  return m;
}

}  // namespace

TEST_CASE("write_npy then read_npy round-trips doubles exactly", "[npy]") {
  TempDir dir("npy");
  const MatD m = sample_matrix();
  write_npy(dir.file("m.npy"), m, false);
  REQUIRE(bitwise_equal(read_npy(dir.file("m.npy")), m));

  const VecD v = m.col(3);
  write_npy(dir.file("v.npy"), v, true);
  REQUIRE(bitwise_equal(read_npy(dir.file("v.npy")), v));  // 1-D (n,) reads back as (n, 1)

  const MatD row = m.row(1);  // a (1, n) matrix written as a vector is also (n,)
  write_npy(dir.file("row.npy"), row, true);
  REQUIRE(bitwise_equal(read_npy(dir.file("row.npy")), row.transpose()));

  write_npy(dir.file("empty.npy"), MatD(0, 3), false);
  const MatD empty = read_npy(dir.file("empty.npy"));
  REQUIRE(empty.rows() == 0);
  REQUIRE(empty.cols() == 3);
}

TEST_CASE("npy layout: magic, version 1.0, 64-byte aligned header, C order", "[npy]") {
  TempDir dir("npy");
  const MatD m = sample_matrix();
  write_npy(dir.file("m.npy"), m, false);
  write_npy(dir.file("v.npy"), VecD(m.col(1)), true);

  for (const auto& [name, shape] :
       {std::pair{"m.npy", "'shape': (3, 4)"}, std::pair{"v.npy", "'shape': (3,)"}}) {
    const std::string bytes = test::read_text(dir.file(name));
    REQUIRE(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
    const std::size_t header_len = std::size_t(static_cast<unsigned char>(bytes[8])) |
                                   std::size_t(static_cast<unsigned char>(bytes[9])) << 8;
    const std::string header = bytes.substr(10, header_len);
    INFO(name << " header: [" << header << "], " << 10 + header_len << " bytes");
    REQUIRE((10 + header_len) % 64 == 0);
    REQUIRE(header.back() == '\n');
    REQUIRE_THAT(header, Catch::Matchers::StartsWith("{'descr': '<f8', 'fortran_order': False, "));
    REQUIRE_THAT(header, Catch::Matchers::Contains(shape));
    const std::size_t elements = std::string(name) == "m.npy" ? 12 : 3;
    REQUIRE(bytes.size() == 10 + header_len + 8 * elements);
  }

  // Row-major data: the second double on disk is m(0, 1), the fifth m(1, 0).
  const std::string bytes = test::read_text(dir.file("m.npy"));
  const std::size_t data_start = bytes.find('\n') + 1;
  double second = 0, fifth = 0;
  std::memcpy(&second, bytes.data() + data_start + 8, 8);
  std::memcpy(&fifth, bytes.data() + data_start + 32, 8);
  REQUIRE(second == m(0, 1));
  REQUIRE(fifth == m(1, 0));
}

TEST_CASE("read_npy accepts float32, Fortran order, version 2.0 and numpy's spellings", "[npy]") {
  TempDir dir("npy");
  const auto load = [&](const std::string& bytes) {
    return read_npy(write_file(dir, "in.npy", bytes));
  };
  MatD expected(2, 3);
  expected << 1.5, -2.25, 3, 4, 5, 6.125;

  const std::string c_order = raw<double>({1.5, -2.25, 3, 4, 5, 6.125});
  const std::string f_order = raw<double>({1.5, 4, -2.25, 5, 3, 6.125});
  const std::string as_float = raw<float>({1.5f, -2.25f, 3, 4, 5, 6.125f});
  const char* c_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  REQUIRE(load(npy_bytes(1, c_dict, c_order)) == expected);
  REQUIRE(load(npy_bytes(2, c_dict, c_order)) == expected);  // 4-byte header length
  REQUIRE(load(npy_bytes(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                         f_order)) == expected);
  REQUIRE(load(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                         as_float)) == expected);
  // Key order, quotes, spacing and the trailing comma are free in a Python dict literal.
  VecD flat(6);
  flat << 1.5, -2.25, 3, 4, 5, 6.125;
  REQUIRE(load(npy_bytes(1, "{ \"shape\":(6,),\"fortran_order\" :True, \"descr\":\"<f8\"}",
                         c_order)) == flat);
}

TEST_CASE("read_npy errors name the file and say what is wrong", "[npy]") {
  TempDir dir("npy");
  const std::string payload = raw<double>({1, 2, 3, 4});
  struct BadNpy {
    std::string what;
    std::string bytes;
    std::string fragment;
  };
  const auto dict = [](const std::string& descr, const std::string& shape) {
    return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  };
  const std::vector<BadNpy> cases = {
      {"bad magic", "PK\x03\x04 this is a zip file", "not a .npy file"},
      {"too short", "\x93NUM", "not a .npy file"},
      {"truncated header", std::string("\x93NUMPY\x01\x00\x76\x00{'descr'", 17),
       "truncated .npy header"},
      {"version 9", npy_bytes(9, dict("<f8", "(4,)"), payload),
       "unsupported .npy format version 9.0"},
      {"int64", npy_bytes(1, dict("<i8", "(4,)"), payload), "unsupported dtype '<i8'"},
      {"big-endian", npy_bytes(1, dict(">f8", "(4,)"), payload), "unsupported dtype '>f8'"},
      {"structured",
       npy_bytes(1,
                 "{'descr': [('a', '<f8')], 'fortran_order': False, "
                 "'shape': (4,), }",
                 payload),
       "structured arrays"},
      {"3-D", npy_bytes(1, dict("<f8", "(1, 2, 2)"), payload), "unsupported shape (1, 2, 2)"},
      {"scalar", npy_bytes(1, dict("<f8", "()"), payload.substr(0, 8)), "unsupported shape ()"},
      {"truncated data", npy_bytes(1, dict("<f8", "(5,)"), payload),
       "file size does not match shape (5,) of '<f8': expected 40 data bytes, found 32 "
       "(truncated)"},
      {"extra data", npy_bytes(1, dict("<f8", "(3,)"), payload),
       "expected 24 data bytes, found 32"},
      {"absurd shape", npy_bytes(1, dict("<f8", "(1099511627776, 1099511627776)"), payload),
       "expected over 2^64 data bytes, found 32 (truncated)"},
      {"missing key", npy_bytes(1, "{'descr': '<f8', 'shape': (4,)}", payload),
       "'descr', 'fortran_order' and 'shape' are required"},
      {"bad bool", npy_bytes(1, "{'descr': '<f8', 'fortran_order': 0, 'shape': (4,)}", payload),
       "fortran_order must be True or False"},
      {"garbage dict", npy_bytes(1, "descr=<f8", payload), "bad .npy header"},
  };
  for (const BadNpy& c : cases) {
    const std::string file = write_file(dir, "bad.npy", c.bytes);
    std::string message = "(no error)", where;
    try {
      read_npy(file);
    } catch (const InputError& e) {
      message = e.what();
      where = e.where();
    }
    INFO(c.what << ": " << message);
    REQUIRE_THAT(message, Catch::Matchers::Contains(c.fragment));
    REQUIRE(where == file);
  }

  const std::string missing = dir.file("missing.npy");
  REQUIRE_THROWS_WITH(read_npy(missing), Catch::Matchers::Contains(missing) &&
                                             Catch::Matchers::Contains("No such file"));
}

TEST_CASE("numpy.load reads our files (skipped when numpy is not installed)", "[npy]") {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    WARN("numpy is not installed for /usr/bin/python3: cross-check with numpy.load skipped");
    return;
  }
  TempDir dir("npy");
  MatD m(3, 4);
  for (long i = 0; i < 3; ++i)
    for (long j = 0; j < 4; ++j) m(i, j) = 10.0 * double(i) + double(j) + 0.1;
  write_npy(dir.file("m.npy"), m, false);
  write_npy(dir.file("v.npy"), VecD(m.col(2)), true);
  const std::string script =
      "import numpy as np, sys\n"
      "m = np.load(sys.argv[1]); v = np.load(sys.argv[2])\n"
      "assert m.dtype == np.float64 and m.shape == (3, 4), m.shape\n"
      "assert v.shape == (3,), v.shape\n"
      "expected = np.arange(3)[:, None] * 10.0 + np.arange(4)[None, :] + 0.1\n"
      "assert (m == expected).all(), m\n"
      "assert (v == expected[:, 2]).all(), v\n";
  const std::string script_path = write_file(dir, "check.py", script);
  const std::string command =
      "/usr/bin/python3 " + script_path + " " + dir.file("m.npy") + " " + dir.file("v.npy");
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
}

TEST_CASE("an empty array of a huge shape reads and writes back at once (fuzzer finding)",
          "[npy]") {
  // npy_fuzzer: shape (1151555151, 0) has no data; transposing it for the write looped 10^9
  // times (a 26 s timeout under the sanitizers).
  const std::string path = std::string(GRADFLOW_SOURCE_DIR) + "/fuzz/seeds/npy/empty_tall_timeout.npy";
  const auto start = std::chrono::steady_clock::now();
  const MatD m = read_npy(path);
  REQUIRE(m.rows() == 1151555151);
  REQUIRE(m.cols() == 0);
  const MatD again = parse_npy(npy_bytes(m, false), "again.npy");
  REQUIRE(again.rows() == m.rows());
  REQUIRE(again.cols() == 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(seconds << " s");
  REQUIRE(seconds < 1);
}
