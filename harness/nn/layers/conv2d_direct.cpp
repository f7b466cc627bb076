// See conv2d_direct.hpp.
#include "nn/layers/conv2d_direct.hpp"

#include <Eigen/Core>
#include <algorithm>

#include "nn/layers/layers.hpp"
#include "nn/small_gemm.hpp"

namespace gradflow {
namespace {

namespace ei = Eigen::internal;

// Output channels per register tile, by two packets of positions (16 accumulators of the 32
// AVX-512 registers); half that for paired tiles, which hold two sets.
inline constexpr long kTileChannels = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 8 : 4;
inline constexpr long kTileVectors = 2;
// Depth (c_in k k) the offset table holds; deeper convolutions take im2col.
inline constexpr long kMaxDepth = 2048;
inline constexpr long kMaxLanes = 16;  // of any packet (AVX-512 floats), for scratch sizes
// Runs one tile covers at most; the paired sums start at any run, so theirs reach up to one
// tile past padded_runs.
inline constexpr long kTileRuns = kTileVectors * kMaxLanes;

struct Planes {
  long height, width, size;  // padded plane: (oh + k - 1) x (ow + k - 1)
  long runs;                 // output positions in plane-wide rows: oh (ow + k - 1)
  long padded_runs;          // runs rounded up to whole tiles
};

Planes planes(const DirectConv& g) {
  Planes p;
  p.height = g.oh + g.k - 1;
  p.width = g.ow + g.k - 1;
  p.size = p.height * p.width;
  p.runs = g.oh * p.width;
  p.padded_runs = (p.runs + kTileRuns - 1) / kTileRuns * kTileRuns;
  return p;
}

// Scratch regions: the padded input (c_in planes, then a tail that tiles past the last
// position read), the sums in plane-wide rows (c_out, padded_runs), and the paired sums.
long input_elements(const DirectConv& g, const Planes& p) {
  return g.c_in * p.size + p.padded_runs + kTileRuns + g.k * p.width;
}

template <class T>
void pad_input(const DirectConv& g, const Planes& p, const T* in, T* padded) {
  for (long ci = 0; ci < g.c_in; ++ci)
    for (long y = 0; y < p.height; ++y) {
      T* dst = padded + ci * p.size + y * p.width;
      const long iy = conv_source(y, 0, 1, g.pad, g.circular, g.h);
      if (iy < 0) {
        Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(dst, p.width).setZero();
        continue;
      }
      const T* row = in + (ci * g.h + iy) * g.w;
      const long lo = std::min(g.pad, p.width), hi = std::min(g.pad + g.w, p.width);
      Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(dst + lo, hi - lo) =
          Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(row + lo - g.pad, hi - lo);
      for (long x = 0; x < lo; ++x) {
        const long ix = conv_source(x, 0, 1, g.pad, g.circular, g.w);
        dst[x] = ix < 0 ? T(0) : row[ix];
      }
      for (long x = hi; x < p.width; ++x) {
        const long ix = conv_source(x, 0, 1, g.pad, g.circular, g.w);
        dst[x] = ix < 0 ? T(0) : row[ix];
      }
    }
  const long tail = input_elements(g, p) - g.c_in * p.size;
  std::fill(padded + g.c_in * p.size, padded + g.c_in * p.size + tail, T(0));
}

// acc[c][v] += x(run q0 + v L, depth j) W(co0 + c, j): one depth index.
template <class P, int Channels, class T>
inline void multiply_add(const T* x, const T* w, P (&acc)[Channels][kTileVectors]) {
  constexpr long L = ei::unpacket_traits<P>::size;
  P a[kTileVectors];
  for (int v = 0; v < kTileVectors; ++v) a[v] = ei::ploadu<P>(x + v * L);
  for (int c = 0; c < Channels; ++c) {
    const P b = ei::pset1<P>(w[c]);
    for (int v = 0; v < kTileVectors; ++v) acc[c][v] = ei::pmadd(a[v], b, acc[c][v]);
  }
}

// sums[(co0 + c) stride + q0 + ...] = the depth's sum for Channels channels at two packets of
// runs; Paired: even and odd depth indices apart up to the last multiple of 8 (Eigen's order
// for one-packet rows, small_gemm.hpp), else in order.
template <class P, int Channels, bool Paired, class T>
inline void tile(const T* padded, const long* offsets, long depth, const T* weights, long c_out,
                 long co0, long q0, T* sums, long stride) {
  constexpr long L = ei::unpacket_traits<P>::size;
  P acc[Channels][kTileVectors];
  for (auto& row : acc)
    for (auto& v : row) v = ei::pset1<P>(T(0));
  const T* x = padded + q0;
  const T* w = weights + co0;
  long j = 0;
  if constexpr (Paired) {
    P odd[Channels][kTileVectors];
    for (auto& row : odd)
      for (auto& v : row) v = ei::pset1<P>(T(0));
    for (const long peeled = depth & ~7L; j < peeled; j += 2) {
      multiply_add<P, Channels>(x + offsets[j], w + j * c_out, acc);
      multiply_add<P, Channels>(x + offsets[j + 1], w + (j + 1) * c_out, odd);
    }
    for (int c = 0; c < Channels; ++c)
      for (int v = 0; v < kTileVectors; ++v) acc[c][v] = ei::padd(acc[c][v], odd[c][v]);
  }
  for (; j < depth; ++j) multiply_add<P, Channels>(x + offsets[j], w + j * c_out, acc);
  for (int c = 0; c < Channels; ++c)
    for (int v = 0; v < kTileVectors; ++v)
      ei::pstoreu(sums + (co0 + c) * stride + q0 + v * L, acc[c][v]);
}

// Channels [co_begin, co_end) at runs [q_begin, q_end) (whole tiles from q_begin).
template <bool Paired, class T>
void sum_channels(const T* padded, const long* offsets, long depth, const T* weights,
                  long c_out, long co_begin, long co_end, long q_begin, long q_end, T* sums,
                  long stride) {
  using P = typename ei::packet_traits<T>::type;
  constexpr long L = ei::unpacket_traits<P>::size;
  constexpr int Wide = Paired ? kTileChannels / 2 : kTileChannels;
  for (long q = q_begin; q < q_end; q += kTileVectors * L) {
    long co = co_begin;
    for (; co + Wide <= co_end; co += Wide)
      tile<P, Wide, Paired>(padded, offsets, depth, weights, c_out, co, q, sums, stride);
    for (; co < co_end; ++co)
      tile<P, 1, Paired>(padded, offsets, depth, weights, c_out, co, q, sums, stride);
  }
}

}  // namespace

template <class T>
bool direct_conv_takes(const DirectConv& g) {
  const long m = g.oh * g.ow, n = g.c_out, k = g.c_in * g.k * g.k;
  // What Eigen's GEMM would do with this product (small_gemm.hpp): it must not run it as a
  // matrix-vector or coefficient product, cut its depth, or have scalar rows.
  if (m < 2 || n < 2 || k + m + n < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD || k > kMaxDepth)
    return false;
  const EigenBlocking blocks = eigen_blocking<T>(m, n, k);
  if (blocks.kc < k) return false;
  for (long i2 = 0; i2 < m; i2 += blocks.mc) {
    const long rows = std::min(blocks.mc, m - i2);
    if (eigen_row_panels<T>(rows).quarter != rows) return false;
  }
  return true;
}

long direct_conv_scratch(const DirectConv& g) {
  const Planes p = planes(g);
  return input_elements(g, p) + 2 * g.c_out * p.padded_runs + kTileRuns;
}

template <class T>
void direct_conv(const DirectConv& g, const T* in, const T* weights, const T* bias, T* out,
                 T* scratch) {
  const Planes p = planes(g);
  T* padded = scratch;
  T* sums = padded + input_elements(g, p);         // (c_out, padded_runs)
  T* paired = sums + g.c_out * p.padded_runs;      // (c_out, padded_runs)
  pad_input(g, p, in, padded);
  const long depth = g.c_in * g.k * g.k;
  long offsets[kMaxDepth];  // of depth index (ci, ky, kx) in the padded planes
  for (long ci = 0; ci < g.c_in; ++ci)
    for (long ky = 0; ky < g.k; ++ky)
      for (long kx = 0; kx < g.k; ++kx)
        offsets[(ci * g.k + ky) * g.k + kx] = ci * p.size + ky * p.width + kx;
  sum_channels<false>(padded, offsets, depth, weights, g.c_out, 0, g.c_out, 0, p.runs, sums,
                      p.padded_runs);
  // Positions Eigen sums paired: rows [two, quarter) of each row block, in the four-column
  // groups of each column block.
  const long m = g.oh * g.ow;
  const EigenBlocking blocks = eigen_blocking<T>(m, g.c_out, depth);
  const auto run_of = [&](long position) {
    return position / g.ow * p.width + position % g.ow;
  };
  for (long i2 = 0; i2 < m; i2 += blocks.mc) {
    const EigenRowPanels panels = eigen_row_panels<T>(std::min(blocks.mc, m - i2));
    const long first = i2 + panels.two, last = i2 + panels.quarter;
    if (first == last) continue;
    for (long j2 = 0; j2 < g.c_out; j2 += blocks.nc) {
      const long four = std::min(blocks.nc, g.c_out - j2) / 4 * 4;
      const long q0 = run_of(first), q1 = run_of(last - 1) + 1;
      sum_channels<true>(padded, offsets, depth, weights, g.c_out, j2, j2 + four, q0, q1,
                         paired, p.padded_runs);
      for (long co = j2; co < j2 + four; ++co)
        for (long position = first; position < last; ++position) {
          const long q = co * p.padded_runs + run_of(position);
          sums[q] = paired[q];
        }
    }
  }
  // out (oh ow, c_out) from the plane-wide rows, plus the bias (Eigen adds the sum to it).
  for (long co = 0; co < g.c_out; ++co)
    for (long oy = 0; oy < g.oh; ++oy) {
      const T* src = sums + co * p.padded_runs + oy * p.width;
      T* dst = out + co * m + oy * g.ow;
      if (bias)
        for (long ox = 0; ox < g.ow; ++ox) dst[ox] = bias[co] + src[ox];
      else
        for (long ox = 0; ox < g.ow; ++ox) dst[ox] = src[ox];
    }
}

template bool direct_conv_takes<float>(const DirectConv&);
template bool direct_conv_takes<double>(const DirectConv&);
template void direct_conv<float>(const DirectConv&, const float*, const float*, const float*,
                                 float*, float*);
template void direct_conv<double>(const DirectConv&, const double*, const double*,
                                  const double*, double*, double*);

}  // namespace gradflow
