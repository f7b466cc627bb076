// The "model" section: its keys parsed and validated (config.cpp calls parse_model), its
// canonical JSON, and the expansion of the shorthand keys into the layer list a network is
// built from. docs/config.md ("model", "Layer stacks") is the user-facing copy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/config_reader.hpp"
#include "nn/layers/layer_spec.hpp"

namespace gradflow {

inline constexpr std::int64_t kMaxDepth = 1000;   // model.depth; dense layers of model.layers
inline constexpr std::int64_t kMaxWidth = 65536;  // widths and units; also dims, classes, outputs
inline constexpr std::int64_t kMaxLayers = 4000;  // entries of model.layers, nested ones included
inline constexpr int kMaxResidualNesting = 4;     // residual blocks inside residual blocks

// Reads the "model" object. Throws InputError naming the key's JSON path: unknown keys and
// layer kinds, values out of range, a residual `every` that does not divide depth - 1, norm
// keys without a norm (norm_momentum without batch norm), prelu_init without prelu, residual
// with conv, depth 0 without conv, and model.layers with any shorthand key it replaces.
ModelConfig parse_model(ObjectReader r);

// The canonical "model" object of to_json: today's keys in today's order, then the keys of a
// feature that is on (prelu_init with prelu, norm* with a norm, residual, conv); with
// model.layers, the list and the init keys only. So a plain config's document, and its run id, are unchanged.
Json model_to_json(const ModelConfig& m);

// The hidden layers, as the network builds them (the output layer is appended by the network):
// model.layers when given, else the shorthand expanded:
//   no residual:  for l = 1..depth: dense(width_l), [norm], act   (the plain MLP)
//   residual k:   dense(width_1), [norm]                           (the stem)
//                 (depth - 1) / k blocks, each residual{ k x (act, dense(width_l), [norm]) }
//                 act
// where act is the activation (or a prelu layer) and [norm] the norm when model.norm is not
// none. Pre-activation blocks (He et al. 2016, "Identity mappings in deep residual networks"):
// the operations are the plain MLP's in the same order; only the skip additions are new.
// With model.conv, its stem comes first (conv_config.hpp):
//   for each C in conv.channels: conv2d(C, kernel, stride, padding), [norm], act,
//                                and after every pool_every-th: a pool_size pool (stride its size)
//   flatten (or global_avg_pool with conv.global_pool), then the dense stack above (depth >= 0).
std::vector<LayerSpec> model_layers(const ModelConfig& m);

// For each layer of model_layers(m) (top level), the JSON path of what made it, for messages:
// "/model/layers/3" for model.layers; for the shorthand the key ("/model/conv/channels/1",
// "/model/conv/pool", "/model/conv" for the flatten, "/model/width", "/model/norm", ...).
std::vector<std::string> model_layer_paths(const ModelConfig& m);

// A layer list as model.layers is written, every default filled in; parse_model reads it back
// to the same list.
Json layers_to_json(const std::vector<LayerSpec>& layers);

std::string_view norm_name(Norm n);

}  // namespace gradflow
