// What a network is made of, as plain data: a list of layer specs, read from the config
// (model.layers, or the shorthand keys expanded into it) and turned into a Network by
// nn/network.hpp. The output layer (dense to the data's outputs, linear) is not in the list:
// every network gets one appended.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

#include "nn/activation.hpp"

namespace gradflow {

// Closed set of layer kinds (ggml style: enum + name table + count checked in layer_spec.cpp).
enum class LayerKind {
  dense,       // z = W x + b
  activation,  // one of the 10 fixed activations, elementwise
  prelu,       // max(0, x) + a_u min(0, x), one learnable slope a_u per unit (He et al. 2015)
  batch_norm,  // per unit over the batch, then gamma, beta (Ioffe & Szegedy 2015)
  layer_norm,  // per example over its units, then gamma, beta (Ba et al. 2016)
  residual,    // out = skip(x) + s * body(x), body its own list of layers (He et al. 2016)
  conv2d,      // k x k kernel, stride, padding, bias; (C_in, H, W) -> (C_out, H', W')
  max_pool,    // k x k window, stride, no padding; per channel
  avg_pool,    // k x k window, stride, no padding; per channel
  global_avg_pool,  // (C, H, W) -> (C, 1, 1), the mean over positions
  flatten,     // (C, H, W) -> (C H W, 1, 1): the values stay, the shape becomes dense
};
inline constexpr std::size_t kLayerKindCount = 11;
extern const std::array<std::string_view, kLayerKindCount> kLayerKindNames;
std::string_view layer_kind_name(LayerKind k);
bool parse_layer_kind(std::string_view name, LayerKind& out);

// A conv2d layer's padding. same and circular keep H' = ceil(H / stride); valid pads nothing.
enum class Padding {
  same,      // zeros, (k - 1) / 2 before and k - 1 - (k - 1) / 2 after (PyTorch's "same")
  valid,     // none: H' = (H - k) / stride + 1
  circular,  // as same, the image wrapped around (a torus: Xiao et al. 2018's isometry)
};
inline constexpr std::size_t kPaddingCount = 3;
extern const std::array<std::string_view, kPaddingCount> kPaddingNames;
std::string_view padding_name(Padding p);

// The shape of one example's activation: C channels of H x W positions, stored channel by
// channel, row by row in a column of C H W values (batch stays the column dimension). A dense
// activation of u units is (u, 1, 1).
struct Shape {
  long c = 0, h = 1, w = 1;
  long size() const { return c * h * w; }
  long positions() const { return h * w; }
  bool operator==(const Shape&) const = default;
};

// How a residual block scales its branch.
enum class ResidualScale {
  constant,         // s = scale_value (1: plain ResNet)
  inv_sqrt_blocks,  // s = 1 / sqrt(number of residual blocks in the network)
  rezero,           // s = alpha, one learnable scalar per block, initialized to 0
                    // (Bachlechner et al. 2020; SkipInit, De & Smith 2020)
};

inline constexpr double kNormEpsilon = 1e-5;  // batch_norm and layer_norm, as PyTorch

struct LayerSpec {
  LayerKind kind = LayerKind::dense;
  long units = 0;              // dense: fan_out
  ActivationSpec activation;   // activation
  double prelu_init = 0.25;    // prelu: initial slope of every unit
  bool affine = true;          // batch_norm, layer_norm: learnable gamma (init 1), beta (init 0)
  double momentum = 0.1;       // batch_norm: running = (1 - m) running + m batch (PyTorch's)
  ResidualScale scale = ResidualScale::constant;  // residual
  double scale_value = 1.0;    // residual, ResidualScale::constant
  std::vector<LayerSpec> body; // residual: the branch; a dense projection is added on the skip
                               // when the body changes the width
  long channels = 0;           // conv2d: C_out
  long kernel = 3;             // conv2d, max_pool, avg_pool: k (a k x k window)
  long stride = 1;             // conv2d, max_pool, avg_pool (pools: config default k)
  Padding padding = Padding::same;  // conv2d
};

// Specs of the kinds that need few keys, for the config's shorthand, tests and benchmarks.
inline LayerSpec layer_of(LayerKind kind) {  // flatten, global_avg_pool, or a start
  LayerSpec s;
  s.kind = kind;
  return s;
}
inline LayerSpec activation_layer(ActivationSpec activation) {
  LayerSpec s = layer_of(LayerKind::activation);
  s.activation = activation;
  return s;
}
inline LayerSpec conv2d_layer(long channels, long kernel = 3, Padding padding = Padding::same,
                              long stride = 1) {
  LayerSpec s = layer_of(LayerKind::conv2d);
  s.channels = channels;
  s.kernel = kernel;
  s.padding = padding;
  s.stride = stride;
  return s;
}
// max_pool or avg_pool: a size x size window moved by its size (no overlap, no padding).
inline LayerSpec pool_layer(LayerKind kind, long size = 2) {
  LayerSpec s = layer_of(kind);
  s.kernel = s.stride = size;
  return s;
}

}  // namespace gradflow
