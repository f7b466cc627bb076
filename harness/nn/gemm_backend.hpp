// Which GEMM the build uses: Eigen's own (the default) or OpenBLAS through EIGEN_USE_BLAS
// (cmake -DGRADFLOW_OPENBLAS=ON; docs/speed.md "OpenBLAS build option").
#pragma once

#include <string>

namespace gradflow {

// "eigen", or "openblas <core>" (the kernels OpenBLAS chose for this CPU, e.g. SkylakeX).
std::string gemm_backend();

// OpenBLAS builds: one BLAS thread per run, since runs are what gradflow parallelizes (--jobs)
// and OpenBLAS ignores OMP/Eigen thread settings. Called at the start of every train().
void pin_gemm_threads();

}  // namespace gradflow
