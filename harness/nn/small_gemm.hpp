// A GEMM for the step's small products (widths up to a few hundred, batch 64, conv
// patches), which computes every entry with exactly the floating-point operations, in
// exactly the order, of Eigen's `c.noalias() = a * b` (or `+=`), so results stay
// bit-identical, and runs 1.3-1.6x faster there (docs/speed.md): it reads a and b in place
// instead of packing them, from tiles that fit in registers and panels that fit in L2.
//
// Why the order can be matched: Eigen's GEMM (Eigen 3.4, GeneralBlockPanelKernel.h) cuts the
// depth into blocks of kc and the rows and columns into blocks of mc and nc
// (computeProductBlockingSizes, decided at run time from the cache sizes), adds each depth
// block's sum to the destination, and inside a block sums each entry with one FMA per depth
// index, in order, except for rows handled one packet (or a half or quarter packet) at a
// time after the 3- and 2-packet panels, in columns that come four at a time: those sum even
// and odd depth indices into two accumulators up to the last multiple of 8, add them, then
// continue in order. Rows left after the quarter packets go one at a time through yet another
// order; shapes that have them are refused (small_gemm returns false) and the caller runs
// Eigen's product itself. tests/test_small_gemm.cpp asserts bit equality with Eigen on shapes
// that exercise every one of these cases.
#pragma once

namespace gradflow {

// c (m, n) = a (m, k) b (k, n), or c += a b when `accumulate`. a is column-major with leading
// dimension lda; b(p, j) = b[p b_row_step + j b_col_step], so b may be a transpose; c is
// column-major with leading dimension ldc. Returns false, touching nothing, when the shape is
// not one this kernel reproduces Eigen exactly on, or is too large to gain: the caller then
// computes the product with Eigen.
template <class T>
bool small_gemm(long m, long n, long k, const T* a, long lda, const T* b, long b_row_step,
                long b_col_step, T* c, long ldc, bool accumulate);

// The same with b gathered: b(p, j) = b[b_rows[p] + b_columns[j]] (a convolution's patches,
// read from its padded input planes without im2col).
template <class T>
bool small_gemm_gathered(long m, long n, long k, const T* a, long lda, const T* b,
                         const long* b_rows, const long* b_columns, T* c, long ldc,
                         bool accumulate);

// Whether small_gemm takes an (m, n, k) product (for callers that prepare operands for it).
template <class T>
bool small_gemm_takes(long m, long n, long k);

// Eigen's blocking of an (m, n, k) product: depth blocks of kc, row blocks of mc, column
// blocks of nc (each row block's partition is eigen_row_panels of its rows).
struct EigenBlocking {
  long kc, mc, nc;
};
template <class T>
EigenBlocking eigen_blocking(long m, long n, long k);

// Eigen's partition of one row block of `rows` rows: the ends of its 3-packet, 2-packet,
// one-packet, half-packet and quarter-packet panels; rows past `quarter` are scalar. Rows
// [two, quarter) sum paired (even and odd depth indices apart) in four-column groups.
struct EigenRowPanels {
  long three, two, one, half, quarter;
};
template <class T>
EigenRowPanels eigen_row_panels(long rows);

// Whether Eigen runs an (m, n, k) product, blocked as `blocks`, in the order small_gemm
// reproduces (not as a matrix-vector or coefficient-based product, no scalar rows): what
// small_gemm_takes checks besides its size limit, and what conv2d_direct checks too.
template <class T>
bool eigen_order_matched(long m, long n, long k, const EigenBlocking& blocks);

// at (cols, rows) = a (rows, cols), both column-major and contiguous: the copy of a left
// operand small_gemm reads (W^T in dense backward, dout_n^T in conv2d's weight gradient), in
// blocks transposed in registers (2-7x faster than a plain transposed assignment at width 256).
template <class T>
void transpose_into(const T* a, long rows, long cols, T* at);

}  // namespace gradflow
