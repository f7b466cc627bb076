// Activation functions as a closed set: value, exact derivative, and the largest derivative
// (the reference for "saturated"). Scalar forms for tests and theory; array kernels for training.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "nn/numeric.hpp"

namespace gradflow {

enum class Activation {
  identity,
  relu,
  leaky_relu,
  sigmoid,
  tanh,
  elu,
  selu,
  gelu,
  silu,
  softplus,
};
inline constexpr std::size_t kActivationCount = 10;
extern const std::array<std::string_view, kActivationCount> kActivationNames;

// An activation with its parameter: the negative slope for leaky_relu, alpha for elu;
// ignored by the others.
struct ActivationSpec {
  Activation kind = Activation::relu;
  double param = 0.0;
};

std::string_view activation_name(Activation a);
// Returns false when `name` is not one of kActivationNames.
bool parse_activation(std::string_view name, Activation& out);

// phi(x) and phi'(x) in double; the value of phi' at 0 is documented per activation in
// activation.cpp (relu: 0, so a unit whose input is exactly 0 everywhere counts as dead).
double activation_value(const ActivationSpec& a, double x);
double activation_derivative(const ActivationSpec& a, double x);
// sup_x |phi'(x)|; saturation is |phi'(z)| < 1% of this.
double activation_max_derivative(const ActivationSpec& a);

// Array kernels: out = phi(z) and dphi = phi'(z), elementwise, for a (units, batch) block.
// `dphi` may be skipped by passing nullptr (probe forward passes that only need values).
template <class T>
void activate(const ActivationSpec& a, const Eigen::Ref<const Mat<T>>& z,
              Eigen::Ref<Mat<T>> out, Mat<T>* dphi);

}  // namespace gradflow
