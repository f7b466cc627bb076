// See small_gemm.hpp for what is matched and why.
#include "nn/small_gemm.hpp"

#include <Eigen/Core>
#include <algorithm>

#include "nn/eigen_order_sum.hpp"
#include "nn/eigen_packets.hpp"

namespace gradflow {
namespace {

namespace ei = Eigen::internal;

using namespace eigen_packets;

// Register tile: up to 2 packets of rows by kTileColumns columns of accumulators (16 of the
// 32 AVX-512 registers; 8 of 16 with AVX2).
inline constexpr long kTileColumns = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 8 : 4;
// Above this, a's panel no longer stays in L2 across a row of tiles and Eigen's packed,
// cache-blocked product is faster.
inline constexpr long kMaxPanelBytes = 1L << 20;

// How b(p, j) is found, as a cursor over a tile's columns [j, j + Cols) that moves one depth
// index at a time. Strided: b[p row_step + j col_step].
template <class T>
struct StridedB {
  const T* b;
  long row_step, col_step;
  template <int Cols>
  struct Cursor {
    const T* row;
    long row_step, col_step;
    T at(int c) const { return row[c * col_step]; }
    void next() { row += row_step; }
  };
  template <int Cols>
  Cursor<Cols> cursor(long p, long j) const {
    return {b + p * row_step + j * col_step, row_step, col_step};
  }
};

// Gathered: b[rows[p] + columns[j]] (a convolution's patches read from its padded input).
template <class T>
struct GatheredB {
  const T* b;
  const long *rows, *columns;
  template <int Cols>
  struct Cursor {
    const T* column[Cols];
    const long* row;
    T at(int c) const { return column[c][*row]; }
    void next() { ++row; }
  };
  template <int Cols>
  Cursor<Cols> cursor(long p, long j) const {
    Cursor<Cols> cursor;
    for (int c = 0; c < Cols; ++c) cursor.column[c] = b + columns[j + c];
    cursor.row = rows + p;
    return cursor;
  }
};

template <class T, class B>
struct Operands {
  const T* a;
  long lda;
  B b;
  T* c;
  long ldc;
};

// acc[r][j] += a(rows r, p) b(p, column j), one FMA per entry.
template <class P, int Rows, int Cols, class T, class Cursor>
EIGEN_ALWAYS_INLINE void multiply_add(const T* a_column, const Cursor& b, P (&acc)[Rows][Cols]) {
  P a[Rows];
  for (int r = 0; r < Rows; ++r) a[r] = ei::ploadu<P>(a_column + r * kLanes<P>);
  for (int j = 0; j < Cols; ++j) {
    const P bj = ei::pset1<P>(b.at(j));
    for (int r = 0; r < Rows; ++r) acc[r][j] = ei::pmadd(a[r], bj, acc[r][j]);
  }
}

// c(rows [i, i + Rows packets P), columns [j, j + Cols)) += the sum over depth
// [p0, p0 + depth), or = it when `fresh` (Eigen zeroes the destination of `=` and adds to it:
// the same, since a sum that starts at +0 is never -0). Paired: Eigen's one-packet (or half-
// or quarter-packet) rows in four-column groups, which sum even and odd depth indices apart
// up to the last multiple of 8.
template <class P, int Rows, int Cols, bool Paired, class T, class B>
EIGEN_ALWAYS_INLINE void tile(const Operands<T, B>& o, long i, long j, long p0, long depth,
                              bool fresh) {
  P acc[Rows][Cols];
  const T* a = o.a + i + p0 * o.lda;
  auto b = o.b.template cursor<Cols>(p0, j);
  eigen_order_sum<Paired, P>(depth, acc, [&](long p, P(&into)[Rows][Cols])
                                             __attribute__((always_inline)) {
    multiply_add<P, Rows, Cols>(a + p * o.lda, b, into);
    b.next();
  });
  for (int c = 0; c < Cols; ++c)
    for (int r = 0; r < Rows; ++r) {
      T* dst = o.c + i + r * kLanes<P> + (j + c) * o.ldc;
      ei::pstoreu(dst, fresh ? acc[r][c] : ei::padd(ei::ploadu<P>(dst), acc[r][c]));
    }
}

// Columns [j0, j1) of one row strip, kTileColumns at a time, then 4, then 1.
template <class P, int Rows, bool Paired, class T, class B>
void row_strip(const Operands<T, B>& o, long i, long j0, long j1, long p0, long depth, bool fresh) {
  long j = j0;
  for (; j + kTileColumns <= j1; j += kTileColumns)
    tile<P, Rows, kTileColumns, Paired>(o, i, j, p0, depth, fresh);
  if constexpr (kTileColumns > 4)
    for (; j + 4 <= j1; j += 4) tile<P, Rows, 4, Paired>(o, i, j, p0, depth, fresh);
  for (; j < j1; ++j) tile<P, Rows, 1, Paired>(o, i, j, p0, depth, fresh);
}

}  // namespace

template <class T>
EigenRowPanels eigen_row_panels(long rows) {
  constexpr long L = Full<T>::LhsProgress, LH = Half<T>::LhsProgress,
                 LQ = Quarter<T>::LhsProgress, mr = Full<T>::mr;
  EigenRowPanels p{};
  p.three = mr >= 3 * L ? rows / (3 * L) * (3 * L) : 0;
  p.two = mr >= 2 * L ? p.three + (rows - p.three) / (2 * L) * (2 * L) : 0;
  p.one = mr >= L ? p.two + (rows - p.two) / L * L : 0;
  p.half = LH < L && mr >= LH ? p.one + (rows - p.one) / LH * LH : p.one;
  p.quarter = LQ < LH && mr >= LQ ? p.half + (rows - p.half) / LQ * LQ : p.half;
  return p;
}

namespace {

// The rows [from, to) of a one-, half- or quarter-packet panel, one packet P at a time.
template <class P, class T, class B>
void fraction_rows(const Operands<T, B>& o, long from, long to, long j0, long cols, long p0,
                   long depth, bool fresh) {
  const long four_columns = cols / 4 * 4;
  for (long i = from; i < to; i += kLanes<P>) {
    row_strip<P, 1, true>(o, i, j0, j0 + four_columns, p0, depth, fresh);
    row_strip<P, 1, false>(o, i, j0 + four_columns, j0 + cols, p0, depth, fresh);
  }
}

// One of Eigen's gebp calls: rows [i0, i0 + rows), columns [j0, j0 + cols), depth
// [p0, p0 + depth), with its row and column partition.
template <class T, class B>
void block(const Operands<T, B>& o, long i0, long rows, long j0, long cols, long p0, long depth,
           bool fresh) {
  using P = typename Full<T>::LhsPacket;
  constexpr long L = kLanes<P>;
  const EigenRowPanels panels = eigen_row_panels<T>(rows);
  long i = i0;
  for (; i + 2 * L <= i0 + panels.two; i += 2 * L)  // 3- and 2-packet panels: in order
    row_strip<P, 2, false>(o, i, j0, j0 + cols, p0, depth, fresh);
  for (; i < i0 + panels.two; i += L) row_strip<P, 1, false>(o, i, j0, j0 + cols, p0, depth, fresh);
  fraction_rows<P>(o, i0 + panels.two, i0 + panels.one, j0, cols, p0, depth, fresh);
  fraction_rows<typename Half<T>::LhsPacket>(o, i0 + panels.one, i0 + panels.half, j0, cols,
                                             p0, depth, fresh);
  fraction_rows<typename Quarter<T>::LhsPacket>(o, i0 + panels.half, i0 + panels.quarter, j0,
                                                cols, p0, depth, fresh);
}

}  // namespace

template <class T>
EigenBlocking eigen_blocking(long m, long n, long k) {
  Eigen::Index kc = k, mc = m, nc = n;
  ei::computeProductBlockingSizes<T, T, 1>(kc, mc, nc, Eigen::Index(1));
  return {long(kc), long(mc), long(nc)};
}

namespace {

// Whether every row block ends with its quarter-packet panel (Eigen's scalar rows, one at a
// time, sum in another order, which is not matched).
template <class T>
bool no_scalar_rows(long m, long mc) {
  for (long i2 = 0; i2 < m; i2 += mc) {
    const long rows = std::min(mc, m - i2);
    if (eigen_row_panels<T>(rows).quarter != rows) return false;
  }
  return true;
}

// Whether Eigen runs the product as a GEMM whose order is matched (Eigen evaluates the
// others as matrix-vector products or coefficient by coefficient, or has scalar rows).
template <class T>
bool order_matched(long m, long n, long k, const EigenBlocking& blocks) {
  if (m < 2 || n < 2 || k < 1 || k + m + n < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD) return false;
  return no_scalar_rows<T>(m, blocks.mc);
}

// Whether small_gemm takes the product, given Eigen's blocking of it.
template <class T>
bool takes(long m, long n, long k, const EigenBlocking& blocks) {
  if (m * k * long(sizeof(T)) > kMaxPanelBytes || n * k * long(sizeof(T)) > kMaxPanelBytes)
    return false;
  return order_matched<T>(m, n, k, blocks);
}

}  // namespace

template <class T>
bool eigen_order_matched(long m, long n, long k, const EigenBlocking& blocks) {
  return order_matched<T>(m, n, k, blocks);
}

template <class T>
bool small_gemm_takes(long m, long n, long k) {
  return takes<T>(m, n, k, eigen_blocking<T>(m, n, k));
}

namespace {

template <class T, class B>
bool product(long m, long n, long k, const Operands<T, B>& o, bool accumulate) {
  const EigenBlocking blocks = eigen_blocking<T>(m, n, k);
  if (!takes<T>(m, n, k, blocks)) return false;
  for (long i2 = 0; i2 < m; i2 += blocks.mc)
    for (long p0 = 0; p0 < k; p0 += blocks.kc)
      for (long j2 = 0; j2 < n; j2 += blocks.nc)
        block(o, i2, std::min(blocks.mc, m - i2), j2, std::min(blocks.nc, n - j2), p0,
              std::min(blocks.kc, k - p0), !accumulate && p0 == 0);
  return true;
}

}  // namespace

template <class T>
bool small_gemm(long m, long n, long k, const T* a, long lda, const T* b, long b_row_step,
                long b_col_step, T* c, long ldc, bool accumulate) {
  return product(m, n, k, Operands<T, StridedB<T>>{a, lda, {b, b_row_step, b_col_step}, c, ldc},
                 accumulate);
}

template <class T>
bool small_gemm_gathered(long m, long n, long k, const T* a, long lda, const T* b,
                         const long* b_rows, const long* b_columns, T* c, long ldc,
                         bool accumulate) {
  return product(m, n, k, Operands<T, GatheredB<T>>{a, lda, {b, b_rows, b_columns}, c, ldc},
                 accumulate);
}

template <class T>
void transpose_into(const T* a, long rows, long cols, T* at) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using P = typename Full<T>::LhsPacket;
  constexpr long L = Full<T>::LhsPacketSize;
  const Eigen::Map<const Matrix> from(a, rows, cols);
  Eigen::Map<Matrix> to(at, cols, rows);
  // Blocks of R rows by L columns, R rows making one 64-byte line of each column: R / L packet
  // blocks of L x L, transposed in registers (Eigen's ptranspose) and stored along the
  // destination's rows. Whole-line loads avoid the power-of-two-stride slowdowns of L x L
  // blocks with AVX2 and SSE. Against Eigen's 8 x 8 block assignment (docs/speed.md, 64 x 64 to
  // 1024 x 1024 and 784 x 16, AVX-512, AVX2 and SSE): up to 2.4x faster, never 6% slower.
  constexpr long R = std::max(L, 64 / long(sizeof(T)));
  const long whole_rows = rows / R * R, whole_cols = cols / L * L;
  for (long i = 0; i < whole_rows; i += R)
    for (long j = 0; j < whole_cols; j += L)
      for (long h = i; h < i + R; h += L) {
        ei::PacketBlock<P, L> block;
        for (long c = 0; c < L; ++c) block.packet[c] = ei::ploadu<P>(a + (j + c) * rows + h);
        ei::ptranspose(block);
        for (long r = 0; r < L; ++r) ei::pstoreu(at + (h + r) * cols + j, block.packet[r]);
      }
  to.bottomRows(cols - whole_cols) = from.rightCols(cols - whole_cols).transpose();
  to.topRightCorner(whole_cols, rows - whole_rows) =
      from.bottomLeftCorner(rows - whole_rows, whole_cols).transpose();
}

template EigenBlocking eigen_blocking<float>(long, long, long);
template EigenBlocking eigen_blocking<double>(long, long, long);
template EigenRowPanels eigen_row_panels<float>(long);
template EigenRowPanels eigen_row_panels<double>(long);
template void transpose_into<float>(const float*, long, long, float*);
template void transpose_into<double>(const double*, long, long, double*);
template bool small_gemm<float>(long, long, long, const float*, long, const float*, long, long,
                                float*, long, bool);
template bool small_gemm<double>(long, long, long, const double*, long, const double*, long,
                                 long, double*, long, bool);
template bool small_gemm_gathered<float>(long, long, long, const float*, long, const float*,
                                         const long*, const long*, float*, long, bool);
template bool small_gemm_gathered<double>(long, long, long, const double*, long, const double*,
                                          const long*, const long*, double*, long, bool);
template bool eigen_order_matched<float>(long, long, long, const EigenBlocking&);
template bool eigen_order_matched<double>(long, long, long, const EigenBlocking&);
template bool small_gemm_takes<float>(long, long, long);
template bool small_gemm_takes<double>(long, long, long);

}  // namespace gradflow
