// The order in which Eigen 3.4's GEMM kernel sums one depth block into a register tile, shared
// by small_gemm and conv2d_direct so both reproduce it from one piece of code.
//
// Most tiles sum depth index 0, 1, 2, ... into one set of accumulators. Paired tiles (Eigen's
// one-, half- and quarter-packet rows in four-column groups, small_gemm.hpp) sum even and odd
// indices into two sets up to the last multiple of 8, add the two, then go on in order.
#pragma once

#include <Eigen/Core>

namespace gradflow {

// acc = 0, then step(j, sums) for every depth index j in increasing order, `sums` being acc
// or, paired, acc for even j and a second set for odd j before the last multiple of 8. Acc is
// an array (of arrays) of packets P.
template <bool Paired, class P, class Acc, class Step>
EIGEN_ALWAYS_INLINE void eigen_order_sum(long depth, Acc& acc, Step&& step) {
  namespace ei = Eigen::internal;
  using T = typename ei::unpacket_traits<P>::type;
  P* sums = reinterpret_cast<P*>(&acc);  // Acc is a P[...][...]: contiguous packets
  constexpr long kPackets = sizeof(Acc) / sizeof(P);
  for (long i = 0; i < kPackets; ++i) sums[i] = ei::pset1<P>(T(0));
  long j = 0;
  if constexpr (Paired) {
    Acc odd;
    P* odd_sums = reinterpret_cast<P*>(&odd);
    for (long i = 0; i < kPackets; ++i) odd_sums[i] = ei::pset1<P>(T(0));
    for (const long peeled = depth & ~7L; j < peeled; j += 2) {
      step(j, acc);
      step(j + 1, odd);
    }
    for (long i = 0; i < kPackets; ++i) sums[i] = ei::padd(sums[i], odd_sums[i]);
  }
  for (; j < depth; ++j) step(j, acc);
}

}  // namespace gradflow
