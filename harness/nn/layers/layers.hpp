// Forward and backward of every layer kind, one file each (nn/layers/<kind>.cpp), called by
// network.cpp. Tensors are (units, batch); a conv activation is (C H W, batch). `din` may alias `dout` where the kind says so
// (elementwise kinds run backward in place); nullptr means the input needs no gradient.
// Parameter and gradient pointers are the network's flat buffers; the layer's offsets say
// where its tensors are.
#pragma once

#include <algorithm>

#include "nn/network.hpp"

namespace gradflow {

// dense: out = W in + b. W (out, in), b (out).
template <class T>
void dense_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out);
// dW = dout in^T, db = sum over the batch of dout, din = W^T dout. w_t: (in, out) workspace
// for W^T, which small_gemm reads (it needs the product's left operand column by column), or
// null when dense_uses_transpose is false.
template <class T>
void dense_backward(const Layer& l, const T* params, T* grads, const Mat<T>& in,
                    const Mat<T>& dout, Mat<T>* din, Mat<T>* w_t);
template <class T>
bool dense_uses_transpose(const Layer& l, long batch);

// activation: out = phi(in), dphi = phi'(in) kept for backward.
template <class T>
void activation_forward(const Layer& l, const Mat<T>& in, Mat<T>& out, Mat<T>& dphi);
// din = dout * phi'(in); din may be dout.
template <class T>
void activation_backward(const Mat<T>& dphi, const Mat<T>& dout, Mat<T>& din);

// prelu: out = max(0, in) + a_u min(0, in), slopes a (units). dphi = 1 or a_u.
template <class T>
void prelu_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out, Mat<T>& dphi);
// da_u = sum over the batch of dout * min(0, in); din = dout * dphi (din may be dout).
template <class T>
void prelu_backward(const Layer& l, T* grads, const Mat<T>& in, const Mat<T>& dphi,
                    const Mat<T>& dout, Mat<T>& din);

// batch_norm: per unit over the batch, x_hat = (in - mean) / sqrt(var + eps) (biased var),
// out = gamma x_hat + beta. Train: batch statistics, running ones updated in `state`
// (PyTorch's rule: unbiased variance in the running estimate); eval: running statistics.
// x_hat (units, batch); stat (units, 3): 1/sigma, then two columns of backward scratch.
template <class T>
void batch_norm_forward(const Layer& l, const T* params, T* state, Pass pass, const Mat<T>& in,
                        Mat<T>& out, Mat<T>& x_hat, Mat<T>& stat);
// The batch couples examples: din_i = (1/sigma)(g_i - mean(g) - x_hat_i mean(g x_hat)),
// g = gamma dout. din must not alias dout.
template <class T>
void batch_norm_backward(const Layer& l, const T* params, T* grads, const Mat<T>& x_hat,
                         Mat<T>& stat, const Mat<T>& dout, Mat<T>* din);

// layer_norm: per example over its units, same formulas with the roles of units and examples
// swapped; the same in train and eval. stat (3, batch).
template <class T>
void layer_norm_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out,
                        Mat<T>& x_hat, Mat<T>& stat);
template <class T>
void layer_norm_backward(const Layer& l, const T* params, T* grads, const Mat<T>& x_hat,
                         Mat<T>& stat, const Mat<T>& dout, Mat<T>* din);

// residual, after its body ran: out = skip(in) + s branch, skip = in or P in (P (out, in)).
template <class T>
void residual_forward(const Layer& l, const T* params, const Mat<T>& in, const Mat<T>& branch,
                      Mat<T>& out);
// Before the body's backward: dbranch = s dout, and for rezero dalpha = sum(dout * branch).
template <class T>
void residual_backward_branch(const Layer& l, const T* params, T* grads, const Mat<T>& branch,
                              const Mat<T>& dout, Mat<T>& dbranch);
// After it (din holds the branch's share): din += skip^T dout, and dP = dout in^T.
template <class T>
void residual_backward_skip(const Layer& l, const T* params, T* grads, const Mat<T>& in,
                            const Mat<T>& dout, Mat<T>* din);

// Where a conv's output row (or column) o reads with kernel offset k in an input of `size`
// rows, or -1 for a zero of the padding; circular padding wraps around the image.
inline long conv_source(long o, long k, long stride, long pad, bool circular, long size) {
  long i = o * stride + k - pad;
  if (i >= 0 && i < size) return i;
  if (!circular) return -1;
  i %= size;
  return i < 0 ? i + size : i;
}

// conv2d, a chunk of m examples at a time (conv2d_chunk):
// patches (m H' W', C_in k k) = im2col of the chunk, rows j H' W' + p; for each example n,
// out_n (H' W', C_out), column-major in out's column n, = b + patches_n W^T.
// W (C_out, C_in k k), b (C_out). patches is workspace, patches.rows() / H' W' the chunk.
// padded (conv2d_padded_elements, batch), when given (conv2d_keeps_padded_input): column n
// receives example n's padded planes, which backward's weight gradient then reads instead of
// padding the input again (5% of a CNN step, docs/speed.md).
template <class T>
void conv2d_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out,
                    Mat<T>& patches, Mat<T>& scratch, Mat<T>* padded = nullptr);
// dW = sum_n dout_n^T patches_n, db = the column sums of every dout_n (H' W', C_out). At
// stride 1 din_n = im2col(dout_n) flipped, the convolution of dout with the flipped kernel;
// otherwise din_n = col2im(dout_n W). Reads forward's patches when one chunk is the whole
// batch, else recomputes them per chunk. scratch holds one example's dout patches (or
// dout_n W), flipped the flipped kernel: sizes from conv2d_scratch.
template <class T>
void conv2d_backward(const Layer& l, const T* params, T* grads, const Mat<T>& in,
                     const Mat<T>& dout, Mat<T>* din, Mat<T>& patches, Mat<T>& scratch,
                     Mat<T>& flipped, const Mat<T>* padded = nullptr);
// Whether a training step keeps each example's padded input from forward to backward: when
// both run without im2col (chunks of one example, stride 1, shapes conv2d_direct takes).
template <class T>
bool conv2d_keeps_padded_input(const Layer& l, long batch);
long conv2d_padded_elements(const Layer& l);
// conv2d_backward's workspace: scratch (rows, cols); flipped (flipped_rows, flipped_cols),
// (C_out k k, C_in) at stride 1, else empty.
struct ConvScratch {
  long rows = 0, cols = 0, flipped_rows = 0, flipped_cols = 0;
  long direct = 0;  // elements conv2d_direct needs, forward or backward (stride 1)
  long elements() const { return std::max(rows * cols, direct); }
};
ConvScratch conv2d_scratch(const Layer& l);
// Examples whose patches im2col makes at a time: the whole batch when its patches fit in
// kConvChunkBytes (forward's then serve backward too), else one, whose patches stay in cache
// from im2col to its GEMMs (faster than chunks of several, and than keeping a batch's 29 MB:
// docs/speed.md). Each GEMM is one example's, within EIGEN_STACK_ALLOCATION_LIMIT
// (CMakeLists.txt), so Eigen packs on the stack and the step allocates nothing.
inline constexpr long kConvChunkBytes = 1L << 20;
long conv2d_chunk(const Layer& l, long batch, long scalar_bytes);

// max_pool: out (C H' W', batch); argmax (C H' W', batch) the input row each output took.
template <class T>
void max_pool_forward(const Layer& l, const Mat<T>& in, Mat<T>& out, Mat<T>& argmax);
template <class T>
void max_pool_backward(const Mat<T>& argmax, const Mat<T>& dout, Mat<T>& din);

// avg_pool: out (C H' W', batch), the mean of each window.
template <class T>
void avg_pool_forward(const Layer& l, const Mat<T>& in, Mat<T>& out);
template <class T>
void avg_pool_backward(const Layer& l, const Mat<T>& dout, Mat<T>& din);

// global_avg_pool: out (C, batch), each channel's mean over its positions.
template <class T>
void global_avg_pool_forward(const Layer& l, const Mat<T>& in, Mat<T>& out);
template <class T>
void global_avg_pool_backward(const Layer& l, const Mat<T>& dout, Mat<T>& din);

// flatten: out = in (C H W, batch); din = dout.
template <class T>
void flatten_forward(const Mat<T>& in, Mat<T>& out);
template <class T>
void flatten_backward(const Mat<T>& dout, Mat<T>& din);

}  // namespace gradflow
