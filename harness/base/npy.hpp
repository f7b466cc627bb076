// NumPy .npy files (format version 1.0, little-endian float64 or float32, C order), so that
// numpy.load reads saved parameters with no extra package and users can start runs from them.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "nn/numeric.hpp"

namespace gradflow {

// Writes m (rows, cols) as a C-order array of shape (rows, cols), or (rows,) when `as_vector`.
// The write is atomic (temp file + rename).
void write_npy(const std::string& path, const MatD& m, bool as_vector);
// The file's bytes (format 1.0, '<f8', C order), for write_npy and the fuzzer's round trip.
std::string npy_bytes(const MatD& m, bool as_vector);

// Reads a 1-D or 2-D float64/float32 .npy (C or Fortran order) into a double matrix; a 1-D
// array of length n becomes (n, 1). Throws InputError naming the file on any problem.
// A file larger than `max_bytes` is refused before it is read (a caller that knows the shape it
// expects passes the bytes that shape takes, so a huge file cannot exhaust memory).
MatD read_npy(const std::string& path,
              std::uintmax_t max_bytes = std::numeric_limits<std::uintmax_t>::max());

// The same from the file's bytes; `path` names it in messages.
MatD parse_npy(std::string_view bytes, const std::string& path);

}  // namespace gradflow
