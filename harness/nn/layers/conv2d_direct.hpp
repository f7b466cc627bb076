// A stride-1 convolution of one example computed directly, without im2col, giving exactly
// the bits of im2col + Eigen's GEMM (the path conv2d takes otherwise).
//
// The input is copied once into zero- (or wrap-) padded planes of (oh + k - 1) x (ow + k - 1);
// in such a plane, output position (oy, ox) reads tap (ky, kx) at (oy + ky, ox + kx), so with
// rows as wide as the padded plane every tap is one constant offset, and a run of output
// positions is a run of the plane: the kernel reads its "patches" straight from the planes.
// It sums over the depth (ci, ky, kx) in the order of im2col's columns with one FMA each,
// which is what Eigen's GEMM does for most rows; the rows Eigen sums with paired accumulators
// (small_gemm.hpp) are recomputed that way. Shapes where Eigen cuts the depth into blocks, or
// has scalar rows, are refused and conv2d falls back to im2col.
#pragma once

namespace gradflow {

// out (oh ow, c_out) column-major = [bias +] the correlation of `in` (c_in, h, w) with
// weights, W(co, (ci, ky, kx)) at weights[co + ((ci k + ky) k + kx) c_out]. `pad` rows and
// columns before the first (zero, or wrapped when circular).
struct DirectConv {
  long c_in, h, w, c_out, oh, ow, k, pad;
  bool circular;
};

template <class T>
bool direct_conv_takes(const DirectConv& g);
// Elements of scratch direct_conv needs.
long direct_conv_scratch(const DirectConv& g);
// Elements of one example's padded planes (the first part of that scratch).
long direct_conv_padded_elements(const DirectConv& g);
// bias may be null (out = the sum alone). `padded`, when given, receives the padded planes
// (direct_conv_padded_elements) instead of scratch, for the weight gradient to read later.
template <class T>
void direct_conv(const DirectConv& g, const T* in, const T* weights, const T* bias, T* out,
                 T* scratch, T* padded = nullptr);

// The weight gradient of the same convolution for one example: dw (c_out, c_in k k) +=
// dout^T (c_out, oh ow) patches (oh ow, c_in k k), dout (oh ow, c_out) column-major, exactly
// as Eigen's `dw += dout.transpose() * patches` on im2col's patches. The patches are read
// from the padded planes in place (small_gemm_gathered), so backward needs no im2col.
template <class T>
bool direct_weight_gradient_takes(const DirectConv& g);
// `kept`: the planes direct_conv made of this `in` in forward, or null to make them again.
template <class T>
void direct_weight_gradient(const DirectConv& g, const T* in, const T* dout, T* dw, T* scratch,
                            const T* kept = nullptr);

}  // namespace gradflow
