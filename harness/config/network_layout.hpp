// The one place a config becomes a network: run, plan, train and the memory estimate all
// build the layout here.
#pragma once

#include "config/config.hpp"
#include "nn/network.hpp"

namespace gradflow {

// The hidden stack the model section describes (model.layers, or the shorthand expanded).
std::vector<LayerSpec> hidden_layers(const ModelConfig& model);

// inputs features -> hidden_layers(config.model) -> a dense output layer of `outputs`.
NetworkLayout network_layout(const Config& config, long inputs, long outputs);

}  // namespace gradflow
