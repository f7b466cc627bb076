// Eigen's packet types for T: full (16 floats with AVX-512, 8 with AVX2), half and quarter,
// named through gebp_traits: its typedefs can be template arguments without GCC's
// -Wignored-attributes (packet_traits<T>::type cannot), and they are the packets Eigen's GEMM
// itself uses, whose order small_gemm and conv2d_direct reproduce.
#pragma once

#include <Eigen/Core>

namespace gradflow::eigen_packets {

namespace ei = Eigen::internal;

template <class T, ei::GEBPPacketSizeType Size>
using Traits = ei::gebp_traits<T, T, false, false, Eigen::Architecture::Target, Size>;
template <class T>
using Full = Traits<T, ei::GEBPPacketFull>;
template <class T>
using Half = Traits<T, ei::GEBPPacketHalf>;
template <class T>
using Quarter = Traits<T, ei::GEBPPacketQuarter>;
template <class P>
inline constexpr long kLanes = ei::unpacket_traits<P>::size;

}  // namespace gradflow::eigen_packets
