// Weight and bias initializers. Each cites the paper behind its formula in init.cpp and takes
// fan-in / fan-out from the matrix shape: W is (fan_out, fan_in).
#pragma once

#include <array>
#include <string_view>

#include "nn/numeric.hpp"
#include "nn/rng.hpp"

namespace gradflow {

enum class WeightInit {
  normal,          // N(0, std^2)
  uniform,         // U(-limit, limit)
  xavier_uniform,  // Glorot & Bengio 2010
  xavier_normal,
  he_uniform,      // He et al. 2015
  he_normal,
  lecun_normal,    // LeCun et al. 1998; used with SELU (Klambauer et al. 2017)
  orthogonal,      // Saxe et al. 2014
  delta_orthogonal,  // Xiao et al. 2018: conv kernels a spatial delta at the centre times an
                     // orthogonal (C_out, C_in) matrix (network_init.cpp); dense W: orthogonal
};
inline constexpr std::size_t kWeightInitCount = 9;
extern const std::array<std::string_view, kWeightInitCount> kWeightInitNames;

std::string_view weight_init_name(WeightInit w);
bool parse_weight_init(std::string_view name, WeightInit& out);

struct WeightInitSpec {
  WeightInit kind = WeightInit::he_normal;
  double std = 0.01;    // normal only
  double limit = 0.05;  // uniform only
  // Multiplies the scale of xavier_*, he_*, lecun_normal and orthogonal (1 = the paper's).
  double gain = 1.0;
  // Negative slope a of a leaky ReLU, for He's sqrt(2 / (1 + a^2)) (0 for plain ReLU).
  double leaky_slope = 0.0;
  // Taps per kernel: a conv2d's W is (C_out, C_in k k), and its fan_out counts the taps too,
  // C_out k k (PyTorch's _calculate_fan_in_and_fan_out), which Xavier uses. 1 for dense.
  long receptive_field = 1;
};

enum class BiasInit { constant, normal };

struct BiasInitSpec {
  BiasInit kind = BiasInit::constant;
  double value = 0.0;  // constant
  double mean = 0.0;   // normal
  double std = 0.0;    // normal
};

// Fills W (fan_out, fan_in) in place with draws from `rng`.
void init_weights(const WeightInitSpec& spec, Eigen::Ref<MatD> w, Rng& rng);
void init_bias(const BiasInitSpec& spec, Eigen::Ref<VecD> b, Rng& rng);

// The standard deviation of the weights the spec draws for a (fan_out, fan_in) matrix;
// theory (mean-field predictions) and tests use it. For orthogonal: gain / sqrt(max(fan_in,
// fan_out)), i.e. gain / sqrt(fan_in) when square (a tall W has orthonormal columns, so each
// entry's mean square is gain^2 / fan_out).
double weight_init_std(const WeightInitSpec& spec, long fan_in, long fan_out);

}  // namespace gradflow
