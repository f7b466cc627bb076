// Test helpers for configs and layer stacks: the InputError a call throws, and a network's
// hidden stack written as one word per layer.
#pragma once

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/errors.hpp"
#include "nn/layers/layer_spec.hpp"

namespace gradflow::test {

// Runs `f`, which must throw InputError, and returns it.
template <class F>
InputError input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e;
  }
  FAIL("expected an InputError");
  throw;  // unreachable
}

inline std::string number_text(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

// One word per layer: "dense:64", "relu", "leaky_relu(0.1)", "prelu(0.25)", "bn(0.1)",
// "bn(plain,0.1)", "ln", "ln(plain)", "res[1]{...}", "res[rezero]{...}", "conv:16k3s1same",
// "max_pool:2s2", "global_avg_pool", "flatten".
inline std::string describe(const std::vector<LayerSpec>& layers) {
  std::string out;
  for (const LayerSpec& s : layers) {
    if (!out.empty()) out += " ";
    const std::string plain = s.affine ? "" : "plain,";
    switch (s.kind) {
      case LayerKind::dense:
        out += "dense:" + std::to_string(s.units);
        break;
      case LayerKind::activation:
        out += std::string(activation_name(s.activation.kind));
        if (s.activation.kind == Activation::leaky_relu || s.activation.kind == Activation::elu)
          out += "(" + number_text(s.activation.param) + ")";
        break;
      case LayerKind::prelu:
        out += "prelu(" + number_text(s.prelu_init) + ")";
        break;
      case LayerKind::batch_norm:
        out += "bn(" + plain + number_text(s.momentum) + ")";
        break;
      case LayerKind::layer_norm:
        out += s.affine ? "ln" : "ln(plain)";
        break;
      case LayerKind::residual: {
        const std::string scale = s.scale == ResidualScale::constant ? number_text(s.scale_value)
                                  : s.scale == ResidualScale::rezero ? "rezero"
                                                                     : "inv_sqrt_blocks";
        out += "res[" + scale + "]{" + describe(s.body) + "}";
        break;
      }
      case LayerKind::conv2d:
        out += "conv:" + std::to_string(s.channels) + "k" + std::to_string(s.kernel) + "s" +
               std::to_string(s.stride) + std::string(padding_name(s.padding));
        break;
      case LayerKind::max_pool:
      case LayerKind::avg_pool:
        out += std::string(layer_kind_name(s.kind)) + ":" + std::to_string(s.kernel) + "s" +
               std::to_string(s.stride);
        break;
      case LayerKind::global_avg_pool:
      case LayerKind::flatten:
        out += std::string(layer_kind_name(s.kind));
        break;
    }
  }
  return out;
}

}  // namespace gradflow::test
