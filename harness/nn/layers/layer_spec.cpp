// Names of the layer kinds (config's model.layers[].kind).
#include "nn/layers/layer_spec.hpp"

#include <algorithm>

namespace gradflow {

constexpr std::array<std::string_view, kLayerKindCount> kLayerKindNames = {
    "dense",    "activation", "prelu",    "batch_norm",      "layer_norm", "residual",
    "conv2d",   "max_pool",   "avg_pool", "global_avg_pool", "flatten"};
static_assert(static_cast<std::size_t>(LayerKind::flatten) + 1 == kLayerKindCount,
              "add the new layer kind to kLayerKindNames and to every switch");
static_assert(std::none_of(kLayerKindNames.begin(), kLayerKindNames.end(),
                           [](std::string_view n) { return n.empty(); }),
              "kLayerKindNames has fewer entries than kLayerKindCount");

constexpr std::array<std::string_view, kPaddingCount> kPaddingNames = {"same", "valid",
                                                                     "circular"};
static_assert(std::size_t(Padding::circular) + 1 == kPaddingCount, "add the padding's name");

std::string_view padding_name(Padding p) { return kPaddingNames[std::size_t(p)]; }

std::string_view layer_kind_name(LayerKind k) { return kLayerKindNames[std::size_t(k)]; }

bool parse_layer_kind(std::string_view name, LayerKind& out) {
  for (std::size_t i = 0; i < kLayerKindCount; ++i)
    if (kLayerKindNames[i] == name) {
      out = LayerKind(i);
      return true;
    }
  return false;
}

}  // namespace gradflow
