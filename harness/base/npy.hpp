// NumPy .npy files (format version 1.0, little-endian float64 or float32, C order), so that
// numpy.load reads saved parameters with no extra package and users can start runs from them;
// data sets (data.kind "npy") are read as N-D arrays of any integer or float dtype.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nn/numeric.hpp"

namespace gradflow {

// Writes m (rows, cols) as a C-order array of shape (rows, cols), or (rows,) when `as_vector`.
// The write is atomic (temp file + rename).
void write_npy(const std::string& path, const MatD& m, bool as_vector);

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
// Throws InputError naming the file.
NpyArray read_npy_array(const std::string& path);

// Reads a 1-D or 2-D float64/float32 .npy (C or Fortran order) into a double matrix; a 1-D
// array of length n becomes (n, 1). Throws InputError naming the file on any problem.
MatD read_npy(const std::string& path);

}  // namespace gradflow
