// The names of the layer kinds (model.layers' "kind", layers.csv's `kind`), in enum order.
#include "nn/layers/layer_spec.hpp"

#include <algorithm>

namespace gradflow {

constexpr std::array<std::string_view, kLayerKindCount> kLayerKindNames = {
    "dense", "activation", "prelu", "batch_norm", "layer_norm", "residual",
};
static_assert(static_cast<std::size_t>(LayerKind::residual) + 1 == kLayerKindCount,
              "add the new layer kind to kLayerKindNames and to every switch");
static_assert(std::none_of(kLayerKindNames.begin(), kLayerKindNames.end(),
                           [](std::string_view n) { return n.empty(); }),
              "kLayerKindNames has fewer entries than kLayerKindCount");

std::string_view layer_kind_name(LayerKind k) { return kLayerKindNames[std::size_t(k)]; }

bool parse_layer_kind(std::string_view name, LayerKind& out) {
  const auto it = std::find(kLayerKindNames.begin(), kLayerKindNames.end(), name);
  if (it == kLayerKindNames.end()) return false;
  out = static_cast<LayerKind>(it - kLayerKindNames.begin());
  return true;
}

}  // namespace gradflow
