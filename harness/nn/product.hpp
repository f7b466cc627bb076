// c = a b (or c += a b) for the layers' products: small_gemm where it takes the shape, else
// Eigen's product. Both give the same bits (small_gemm.hpp), so a caller never needs to know
// which one ran.
#pragma once

#include <Eigen/Core>
#include <type_traits>

#include "nn/small_gemm.hpp"

namespace gradflow {

// a, b, c: Eigen expressions with direct access (Map, Block, Transpose of those). small_gemm
// reads a and c as column-major (unit row stride) and b through its row and column strides,
// so b may be a transpose; anything else takes Eigen's product.
template <class C, class A, class B>
void product_into(C&& c, const A& a, const B& b, bool accumulate) {
  using T = typename std::decay_t<C>::Scalar;
  if (a.rowStride() == 1 && c.rowStride() == 1 &&
      small_gemm<T>(c.rows(), c.cols(), a.cols(), a.data(), a.colStride(), b.data(),
                    b.rowStride(), b.colStride(), c.data(), c.colStride(), accumulate))
    return;
  if (accumulate)
    c.noalias() += a * b;
  else
    c.noalias() = a * b;
}

}  // namespace gradflow
