// See network_layout.hpp.
#include "config/network_layout.hpp"

#include <string>

#include "base/errors.hpp"
#include "config/model_config.hpp"

namespace gradflow {
namespace {

// A kind that needs an image (H, W) to work on, anywhere in the stack.
int first_spatial(const std::vector<LayerSpec>& layers) {
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerKind k = layers[i].kind;
    if (k == LayerKind::conv2d || k == LayerKind::max_pool || k == LayerKind::avg_pool ||
        k == LayerKind::global_avg_pool || first_spatial(layers[i].body) >= 0)
      return int(i);
  }
  return -1;
}

}  // namespace

std::vector<LayerSpec> hidden_layers(const ModelConfig& model) { return model_layers(model); }

NetworkLayout network_layout(const Config& config, long inputs, long outputs) {
  const std::vector<LayerSpec> hidden = hidden_layers(config.model);
  // Until the data's image shape reaches the layout (issue 15, stage 3), a run sees flat
  // features only: refuse conv and pool layers rather than build them on a 1 x 1 "image".
  if (const int i = first_spatial(hidden); i >= 0)
    throw InputError(config.source, "/model/layers/" + std::to_string(i),
                     "a " + std::string(layer_kind_name(hidden[std::size_t(i)].kind)) +
                         " layer needs data with an image shape (C, H, W), but the run's " +
                         std::to_string(inputs) +
                         " input features reach the network flat (image inputs for conv "
                         "layers are not wired up yet)");
  return make_network_layout(inputs, hidden, outputs);
}

}  // namespace gradflow
