// See network_layout.hpp.
#include "config/network_layout.hpp"

#include "config/model_config.hpp"

namespace gradflow {

std::vector<LayerSpec> hidden_layers(const ModelConfig& model) { return model_layers(model); }

NetworkLayout network_layout(const Config& config, long inputs, long outputs) {
  return make_network_layout(inputs, hidden_layers(config.model), outputs);
}

}  // namespace gradflow
