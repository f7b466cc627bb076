// See conv2d_direct.hpp.
#include "nn/layers/conv2d_direct.hpp"

#include <Eigen/Core>
#include <algorithm>

#include "base/errors.hpp"
#include "nn/eigen_order_sum.hpp"
#include "nn/eigen_packets.hpp"
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
// Largest kernel (its k - 1 padding columns) and output positions (64 x 64 images) the
// stack tables hold; larger ones take im2col.
inline constexpr long kMaxKernel = 32;
inline constexpr long kMaxPositions = 4096;
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

// dst[0, n) = src[0, n) (or 0 without src) in whole packets of P, the last one ending at n
// and overlapping the one before (n >= P's size): no scalar tail, no loop bounds to check.
template <class P, class T>
EIGEN_ALWAYS_INLINE void overlapping_packets(const T* src, long n, T* dst) {
  constexpr long L = eigen_packets::kLanes<P>;
  const P zero = ei::pset1<P>(T(0));
  long i = 0;
  for (; i + L <= n; i += L) ei::pstoreu(dst + i, src ? ei::ploadu<P>(src + i) : zero);
  if (i < n) ei::pstoreu(dst + n - L, src ? ei::ploadu<P>(src + n - L) : zero);
}

// The same for any n, in the widest packets that fit (a padded row is a few dozen values:
// 28 floats are two 16-float packets, 14 two 8-float ones), so it costs a few instructions
// where a vectorised loop or a libc call spent most of its time on setting up.
template <class T>
EIGEN_ALWAYS_INLINE void copy_row(const T* src, long n, T* dst) {
  using Full = typename eigen_packets::Full<T>::LhsPacket;
  using Half = typename eigen_packets::Half<T>::LhsPacket;
  using Quarter = typename eigen_packets::Quarter<T>::LhsPacket;
  if (n >= eigen_packets::kLanes<Full>)
    overlapping_packets<Full>(src, n, dst);
  else if (n >= eigen_packets::kLanes<Half>)
    overlapping_packets<Half>(src, n, dst);
  else if (n >= eigen_packets::kLanes<Quarter>)
    overlapping_packets<Quarter>(src, n, dst);
  else
    for (long i = 0; i < n; ++i) dst[i] = src ? src[i] : T(0);
}

// The padded planes: row y of plane ci reads input row conv_source(y) (none: zeros), and
// within a row, columns [lo, hi) are a plain copy; the k - 1 columns around them are zeros or,
// circular, wrapped (edge_source, the same for every row). Called per example for every conv
// pass, so it is kept to straight copies.
template <class T>
void pad_input(const DirectConv& g, const Planes& p, const T* in, T* padded) {
  const long lo = std::min(g.pad, p.width), hi = std::min(g.pad + g.w, p.width);
  long edge_source[2 * kMaxKernel];  // of columns [0, lo), then [hi, width)
  long edges = 0;
  for (long x = 0; x < lo; ++x) edge_source[edges++] = conv_source(x, 0, 1, g.pad, g.circular, g.w);
  for (long x = hi; x < p.width; ++x)
    edge_source[edges++] = conv_source(x, 0, 1, g.pad, g.circular, g.w);
  for (long ci = 0; ci < g.c_in; ++ci)
    for (long y = 0; y < p.height; ++y) {
      T* dst = padded + ci * p.size + y * p.width;
      const long iy = conv_source(y, 0, 1, g.pad, g.circular, g.h);
      if (iy < 0) {
        copy_row(static_cast<const T*>(nullptr), p.width, dst);
        continue;
      }
      const T* row = in + (ci * g.h + iy) * g.w;
      copy_row(row + lo - g.pad, hi - lo, dst + lo);
      long e = 0;
      for (long x = 0; x < lo; ++x, ++e) dst[x] = edge_source[e] < 0 ? T(0) : row[edge_source[e]];
      for (long x = hi; x < p.width; ++x, ++e)
        dst[x] = edge_source[e] < 0 ? T(0) : row[edge_source[e]];
    }
  const long tail = input_elements(g, p) - g.c_in * p.size;
  std::fill(padded + g.c_in * p.size, padded + g.c_in * p.size + tail, T(0));
}

// offsets[(ci k + ky) k + kx]: where depth index (ci, ky, kx) reads in the padded planes,
// relative to the output position's run.
void tap_offsets(const DirectConv& g, const Planes& p, long* offsets) {
  for (long ci = 0; ci < g.c_in; ++ci)
    for (long ky = 0; ky < g.k; ++ky)
      for (long kx = 0; kx < g.k; ++kx)
        offsets[(ci * g.k + ky) * g.k + kx] = ci * p.size + ky * p.width + kx;
}

// acc[c][v] += x(run q0 + v L, depth j) W(co0 + c, j): one depth index.
template <class P, int Channels, int Vectors, class T>
EIGEN_ALWAYS_INLINE void multiply_add(const T* x, const T* w, P (&acc)[Channels][Vectors]) {
  constexpr long L = ei::unpacket_traits<P>::size;
  P a[Vectors];
  for (int v = 0; v < Vectors; ++v) a[v] = ei::ploadu<P>(x + v * L);
  for (int c = 0; c < Channels; ++c) {
    const P b = ei::pset1<P>(w[c]);
    for (int v = 0; v < Vectors; ++v) acc[c][v] = ei::pmadd(a[v], b, acc[c][v]);
  }
}

// sums[(co0 + c) stride + q0 + ...] = the depth's sum for Channels channels at Vectors
// packets of runs; Paired: even and odd depth indices apart up to the last multiple of 8
// (Eigen's order for one-packet rows, small_gemm.hpp), else in order.
template <class P, int Channels, int Vectors, bool Paired, class T>
EIGEN_ALWAYS_INLINE void tile(const T* padded, const long* offsets, long depth, const T* weights,
                              long c_out, long co0, long q0, T* sums, long stride) {
  constexpr long L = ei::unpacket_traits<P>::size;
  P acc[Channels][Vectors];
  const T* x = padded + q0;
  const T* w = weights + co0;
  eigen_order_sum<Paired, P>(depth, acc, [&](long j, P(&into)[Channels][Vectors])
                                             __attribute__((always_inline)) {
    multiply_add<P, Channels, Vectors>(x + offsets[j], w + j * c_out, into);
  });
  for (int c = 0; c < Channels; ++c)
    for (int v = 0; v < Vectors; ++v)
      ei::pstoreu(sums + (co0 + c) * stride + q0 + v * L, acc[c][v]);
}

// Channels [co_begin, co_end) at runs [q_begin, q_end), in tiles of Vectors packets from
// q_begin (so up to a tile past q_end).
template <int Vectors, bool Paired, class T>
void sum_channels(const T* padded, const long* offsets, long depth, const T* weights,
                  long c_out, long co_begin, long co_end, long q_begin, long q_end, T* sums,
                  long stride) {
  using P = typename ei::packet_traits<T>::type;
  constexpr long L = ei::packet_traits<T>::size;
  // As many accumulators as a 2-packet, kTileChannels-wide tile (paired tiles hold two sets).
  constexpr int Wide = kTileChannels * kTileVectors / Vectors / (Paired ? 2 : 1);
  for (long q = q_begin; q < q_end; q += Vectors * L) {
    long co = co_begin;
    for (; co + Wide <= co_end; co += Wide)
      tile<P, Wide, Vectors, Paired>(padded, offsets, depth, weights, c_out, co, q, sums, stride);
    for (; co < co_end; ++co)
      tile<P, 1, Vectors, Paired>(padded, offsets, depth, weights, c_out, co, q, sums, stride);
  }
}

// All channels at runs [0, runs): 2-packet tiles, and a 1-packet one for a last half tile.
template <class T>
void sum_all(const T* padded, const long* offsets, long depth, const T* weights, long c_out,
             long runs, T* sums, long stride) {
  constexpr long L = ei::packet_traits<T>::size;
  const long whole = runs / (kTileVectors * L) * (kTileVectors * L);
  sum_channels<kTileVectors, false>(padded, offsets, depth, weights, c_out, 0, c_out, 0, whole,
                                    sums, stride);
  sum_channels<1, false>(padded, offsets, depth, weights, c_out, 0, c_out, whole, runs, sums,
                         stride);
}

}  // namespace

template <class T>
bool direct_conv_takes(const DirectConv& g) {
  const long m = g.oh * g.ow, n = g.c_out, k = g.c_in * g.k * g.k;
  if (k > kMaxDepth || g.k > kMaxKernel) return false;
  // Eigen's GEMM must run this product in the order matched (small_gemm.hpp), with the depth
  // in one block (direct_conv sums it in one pass).
  const EigenBlocking blocks = eigen_blocking<T>(m, n, k);
  return blocks.kc >= k && eigen_order_matched<T>(m, n, k, blocks);
}

long direct_conv_scratch(const DirectConv& g) {
  const Planes p = planes(g);
  return input_elements(g, p) + 2 * g.c_out * p.padded_runs + kTileRuns;
}

long direct_conv_padded_elements(const DirectConv& g) { return input_elements(g, planes(g)); }

template <class T>
void direct_conv(const DirectConv& g, const T* in, const T* weights, const T* bias, T* out,
                 T* scratch, T* padded) {
  const Planes p = planes(g);
  if (!padded) padded = scratch;
  T* sums = scratch + input_elements(g, p);        // (c_out, padded_runs)
  T* paired = sums + g.c_out * p.padded_runs;      // (c_out, padded_runs)
  pad_input(g, p, in, padded);
  const long depth = g.c_in * g.k * g.k;
  long offsets[kMaxDepth];
  tap_offsets(g, p, offsets);
  sum_all(padded, offsets, depth, weights, g.c_out, p.runs, sums, p.padded_runs);
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
      sum_channels<1, true>(padded, offsets, depth, weights, g.c_out, j2, j2 + four, q0, q1,
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

template <class T>
bool direct_weight_gradient_takes(const DirectConv& g) {
  const long m = g.oh * g.ow, depth = g.c_in * g.k * g.k;
  return m <= kMaxPositions && depth <= kMaxDepth && g.k <= kMaxKernel &&
         small_gemm_takes<T>(g.c_out, depth, m);
}

template <class T>
void direct_weight_gradient(const DirectConv& g, const T* in, const T* dout, T* dw, T* scratch,
                            const T* kept) {
  const Planes p = planes(g);
  const long m = g.oh * g.ow, depth = g.c_in * g.k * g.k;
  T* dout_t = scratch + input_elements(g, p);  // (c_out, oh ow): small_gemm's left operand
  const T* padded = kept;
  if (!padded) {
    pad_input(g, p, in, scratch);
    padded = scratch;
  }
  transpose_into(dout, m, g.c_out, dout_t);
  long columns[kMaxDepth], rows[kMaxPositions];  // patches(q, j) = padded[rows[q] + columns[j]]
  tap_offsets(g, p, columns);
  for (long oy = 0; oy < g.oh; ++oy)
    for (long ox = 0; ox < g.ow; ++ox) rows[oy * g.ow + ox] = oy * p.width + ox;
  const bool taken = small_gemm_gathered<T>(g.c_out, depth, m, dout_t, g.c_out, padded, rows,
                                            columns, dw, g.c_out, true);
  GF_ASSERT(taken);  // direct_weight_gradient_takes checked it: else dw would miss this example
}

template bool direct_weight_gradient_takes<float>(const DirectConv&);
template bool direct_weight_gradient_takes<double>(const DirectConv&);
template void direct_weight_gradient<float>(const DirectConv&, const float*, const float*,
                                            float*, float*, const float*);
template void direct_weight_gradient<double>(const DirectConv&, const double*, const double*,
                                             double*, double*, const double*);
template bool direct_conv_takes<float>(const DirectConv&);
template bool direct_conv_takes<double>(const DirectConv&);
template void direct_conv<float>(const DirectConv&, const float*, const float*, const float*,
                                 float*, float*, float*);
template void direct_conv<double>(const DirectConv&, const double*, const double*,
                                  const double*, double*, double*, double*);

}  // namespace gradflow
