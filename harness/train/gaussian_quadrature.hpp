// Gaussian expectations of activations, which are smooth except at 0 (relu, leaky_relu, elu,
// selu have a kink or a jump in phi' there). A plain Gauss-Hermite rule converges slowly across
// such a point (selu's E[phi'^2]: 1.0611 against the exact 1.0716), so these rules split the
// integral where the argument crosses 0 and grade their panels towards it: composite
// Gauss-Legendre on [-L, L], L = 9 standard deviations (the tail beyond holds < 1e-18).
#pragma once

#include <functional>

namespace gradflow {

// E[f(mean + scale Z)], Z ~ N(0, 1), f smooth except at 0.
double normal_expectation(const std::function<double(double)>& f, double mean, double scale);

// E[f(mean + scale Z_a) g(mean + scale Z_b)] for standard normals with correlation rho
// (Z_b = rho Z_a + sqrt(1 - rho^2) W), f and g smooth except at 0: each dimension split
// where its argument crosses 0.
double normal_pair_expectation(const std::function<double(double)>& f,
                               const std::function<double(double)>& g, double mean, double scale,
                               double rho);

}  // namespace gradflow
