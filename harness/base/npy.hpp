// NumPy .npy files (format version 1.0, little-endian float64 or float32, C order), so that
// numpy.load reads saved parameters with no extra package and users can start runs from them.
#pragma once

#include <string>

#include "nn/numeric.hpp"

namespace gradflow {

// Writes m (rows, cols) as a C-order array of shape (rows, cols), or (rows,) when `as_vector`.
// The write is atomic (temp file + rename).
void write_npy(const std::string& path, const MatD& m, bool as_vector);

// Reads a 1-D or 2-D float64/float32 .npy (C or Fortran order) into a double matrix; a 1-D
// array of length n becomes (n, 1). Throws InputError naming the file on any problem.
MatD read_npy(const std::string& path);

}  // namespace gradflow
