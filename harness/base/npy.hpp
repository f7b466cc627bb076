// NumPy .npy files (format version 1.0, little-endian float64 or float32, C order), so that
// numpy.load reads saved parameters with no extra package and users can start runs from them;
// data sets (data.kind "npy") are read as N-D arrays of any integer or float dtype.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "nn/numeric.hpp"

namespace gradflow {

// Writes m (rows, cols) as a C-order array of shape (rows, cols), or (rows,) when `as_vector`.
// The write is atomic (temp file + rename).
void write_npy(const std::string& path, const MatD& m, bool as_vector);
// The file's bytes (format 1.0, '<f8', C order), for write_npy and the fuzzer's round trip.
std::string npy_bytes(const MatD& m, bool as_vector);

// A whole .npy file: header fields and the raw little-endian values.
struct NpyArray {
  std::string descr;  // '<f8', '<f4', '|u1', '<i8', ...
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;
  std::string bytes;            // the file
  std::size_t data_offset = 0;  // the values start at bytes[data_offset]
  std::uint64_t count() const;  // product of shape
  // The element stored at position `i` of the data (memory order), converted to double.
  double value(std::uint64_t i) const;
};

// Reads any .npy array of dtype float64, float32, or a signed or unsigned integer of 1, 2, 4 or
// 8 bytes (little-endian), in C or Fortran order, checking that its size matches its shape.
// Throws InputError naming the file. A file larger than `max_bytes` is refused unread.
NpyArray read_npy_array(const std::string& path,
                        std::uintmax_t max_bytes = std::numeric_limits<std::uintmax_t>::max());
// The same from the file's bytes; `path` names it in messages.
NpyArray parse_npy_array(std::string bytes, const std::string& path);
// A 1-D or 2-D float64/float32 array as a double matrix (1-D: (n, 1)); InputError otherwise.
MatD npy_matrix(const NpyArray& a, const std::string& path);

// Reads a 1-D or 2-D float64/float32 .npy (C or Fortran order) into a double matrix; a 1-D
// array of length n becomes (n, 1). Throws InputError naming the file on any problem.
// A file larger than `max_bytes` is refused before it is read (a caller that knows the shape it
// expects passes the bytes that shape takes, so a huge file cannot exhaust memory).
MatD read_npy(const std::string& path,
              std::uintmax_t max_bytes = std::numeric_limits<std::uintmax_t>::max());

// The same from the file's bytes; `path` names it in messages.
MatD parse_npy(std::string_view bytes, const std::string& path);

}  // namespace gradflow
