// See network_layout.hpp.
#include "config/network_layout.hpp"

namespace gradflow {

std::vector<LayerSpec> hidden_layers(const ModelConfig& model) {
  std::vector<LayerSpec> out;
  for (long l = 0; l < model.depth; ++l) {
    LayerSpec dense;
    dense.kind = LayerKind::dense;
    dense.units = model.hidden_width(l);
    LayerSpec act;
    act.kind = LayerKind::activation;
    act.activation = model.activation_spec();
    out.push_back(dense);
    out.push_back(act);
  }
  return out;
}

NetworkLayout network_layout(const Config& config, long inputs, long outputs) {
  return make_network_layout(inputs, hidden_layers(config.model), outputs);
}

}  // namespace gradflow
