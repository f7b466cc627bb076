// See gemm_backend.hpp.
#include "nn/gemm_backend.hpp"

#ifdef GRADFLOW_OPENBLAS
extern "C" {
void openblas_set_num_threads(int threads);
char* openblas_get_corename(void);
}
#endif

namespace gradflow {

#ifdef GRADFLOW_OPENBLAS
std::string gemm_backend() { return std::string("openblas ") + openblas_get_corename(); }
void pin_gemm_threads() { openblas_set_num_threads(1); }
#else
std::string gemm_backend() { return "eigen"; }
void pin_gemm_threads() {}
#endif

}  // namespace gradflow
