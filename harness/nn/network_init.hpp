// Initial parameters of a network: weights from the initializer (nn/init.hpp), biases from
// the bias initializer (hidden dense layers only), and the fixed starts of the other kinds.
#pragma once

#include "nn/init.hpp"
#include "nn/network.hpp"
#include "nn/rng.hpp"

namespace gradflow {

// Draws every tensor in flat-buffer order from `rng`:
// - dense W: `weights`, with He's gain for the activation before the layer (its leaky or
//   prelu slope; the first layer takes the network's first activation's); b: `bias` for
//   hidden layers, 0 for the output layer (so it does not bias the loss);
// - projection P (a residual's skip): `weights` with slope 1, i.e. He's gain for a linear
//   input (variance 1 / fan_in), so the skip keeps the stream's scale;
// - gamma 1, beta 0, prelu slopes their init, rezero alpha 0.
Parameters initial_parameters(const NetworkLayout& layout, const WeightInitSpec& weights,
                              const BiasInitSpec& bias, Rng& rng);

}  // namespace gradflow
