// The one place a config becomes a network: run, plan, train and the memory estimate all
// build the layout here, and here the layer stack is checked against the data's shape.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "nn/network.hpp"

namespace gradflow {

// What the network reads: the data's image shape (C, H, W) when it has one (IDX images,
// N x H x W or N x C x H x W .npy arrays), else (features, 1, 1). Dense layers see either flat
// (C H W values), so a plain MLP is the same network on both.
struct NetworkInput {
  Shape shape;
  bool image = false;
};
// `image_shape`: the data's (C, H, W), or empty for flat features (Dataset::image_shape).
NetworkInput network_input(long features, const std::vector<long>& image_shape);

// The hidden stack the model section describes (model.layers, or the shorthand expanded).
std::vector<LayerSpec> hidden_layers(const ModelConfig& model);

// input -> hidden_layers(config.model) -> a dense output layer of `outputs`. Throws InputError
// (config.source, the layer's JSON path) when a layer does not fit the shape it reads: a conv
// or pool on data without an image shape or after a flatten or dense layer, a valid-padded
// kernel or a pool window larger than its input.
NetworkLayout network_layout(const Config& config, const NetworkInput& input, long outputs);

}  // namespace gradflow
