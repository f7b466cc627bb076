// Mean-field predictions of gradient flow at init (Poole et al. 2016; Schoenholz et al. 2017;
// He et al. 2015): the forward variance map q_l = sigma_w^2 E[phi(sqrt(q_{l-1}) z)^2] + sigma_b^2
// and the backward factor chi_l = sigma_w^2 E[phi'(sqrt(q_l) z)^2], z ~ N(0, 1), expectations by
// Gauss-Hermite quadrature. Valid for wide layers at init with errors uncorrelated across
// examples; not after training.
#pragma once

#include <functional>
#include <vector>

#include "activation.hpp"

namespace gradflow {

// E[f(z)] for z ~ N(0, 1) by n-point Gauss-Hermite quadrature (Golub & Welsch 1969).
double gaussian_expectation(const std::function<double(double)>& f, int points = 96);

// Per layer of a network with `hidden` layers and an output layer (indices 0..hidden).
struct FlowPrediction {
  std::vector<double> q;    // pre-activation second moment per unit, hidden layers
  std::vector<double> chi;  // backward factor through hidden layer l (uses W_{l+1}'s variance)
  // log10(||delta_l|| / ||delta_out||) and log10(||dW_l|| / ||dW_out||), every layer (the
  // output layer's entries are 0).
  std::vector<double> delta_log10;
  std::vector<double> grad_w_log10;
};

// sigma_w2: fan_in x weight variance, per layer (hidden..., output); sigma_b2: bias variance of
// the hidden layers; q_input: mean square of an input feature.
FlowPrediction predict_flow(const ActivationSpec& activation, const std::vector<double>& sigma_w2,
                            double sigma_b2, double q_input, const std::vector<long>& widths,
                            long inputs);

}  // namespace gradflow
