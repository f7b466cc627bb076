// Mean-field predictions of gradient flow at init (Poole et al. 2016; Schoenholz et al. 2017;
// He et al. 2015): the forward variance map q_l = sigma_w^2 E[phi(z_{l-1})^2] + sigma_b^2 and the
// backward factor chi_l = sigma_w^2 E[phi'(z_l)^2], z_l ~ N(mean bias, q_l - mean bias^2),
// expectations by quadrature split at the activation's kink (gaussian_quadrature.hpp). The same maps over a pair of examples (Poole et al.'s
// covariance map) give the cross-example terms of a batch's weight gradient, which matter when
// activations share a mean (relu, sigmoid). Valid for wide layers at init with independent random
// weights; not after training (theory_caveats says when a run is outside that regime).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nn/activation.hpp"
#include "config/config.hpp"
#include "data/data.hpp"
#include "nn/network.hpp"
#include "train/records.hpp"

namespace gradflow {

// What the prediction needs from a network: hidden layers 0..hidden-1, then the output layer.
struct FlowInputs {
  ActivationSpec activation;
  std::vector<double> sigma_w2;   // fan_in x mean square weight, per layer (hidden..., output)
  std::vector<double> bias_mean;  // per hidden layer: mean of its biases
  std::vector<double> bias_var;   // per hidden layer: variance of its biases across units
  double q_input = 1.0;           // mean square of an input feature
  double k_input = 0.0;           // mean over pairs of examples of x_i . x_j / features
  // The output layer's error signal (MSE: outputs - targets): its targets' mean square and
  // cross-example product, per output. Without MSE the errors are taken as uncorrelated
  // (cross-entropy's p - onehot averages to zero over balanced label pairs).
  bool mse = false;
  double q_target = 0.0;
  double k_target = 0.0;
  long batch = 1;  // examples per batch: a batch gradient is a sum of per-example ones
  std::vector<long> widths;       // hidden widths
  long inputs = 0;
};

// Whether a network has a per-run prediction: a plain MLP, or a vanilla CNN (Xiao et al.
// 2018): conv2d + activation pairs, then flatten, dense + activation pairs and the output
// layer, one activation throughout. Per unit, a conv layer's forward variance and backward
// factor follow the dense maps with fan_in = C_in k^2; pools, norms and residuals have none.
bool conv_flow_stack(const NetworkLayout& layout);
bool has_flow_prediction(const NetworkLayout& layout);

// A bias vector's mean, and its variance across units (never below 0).
struct BiasMoments {
  double mean = 0, var = 0;
};
BiasMoments bias_moments(const MatD& b);

// The moments of the network `start` actually holds (drawn or loaded) and of the training
// inputs, so the prediction is for this run, whatever its init.
// For plain MLPs only (layout.plain_mlp); conv stacks have predict_conv_flow.
FlowInputs flow_inputs(const Config& config, const NetworkLayout& layout, const Parameters& start,
                       const Examples& train);

// Per layer of a network with `hidden` layers and an output layer (indices 0..hidden).
struct FlowPrediction {
  std::vector<double> q;    // pre-activation second moment per unit, hidden layers
  std::vector<double> k;    // pre-activation product of two different examples, hidden layers
  std::vector<double> chi;  // backward factor through hidden layer l (uses W_{l+1}'s variance)
  // Per hidden layer: the pre-activations' mean (the layer's mean bias) over their std across
  // units; far from 0, most units sit on one side of the activation's kink (theory_caveats).
  std::vector<double> mean_over_std;
  // log10(RMS per-example ||delta_l|| / the output layer's) and log10(||dW_l|| / ||dW_out||)
  // of a batch's mean loss, every layer (the output layer's entries are 0).
  std::vector<double> delta_log10;
  std::vector<double> grad_w_log10;
};

FlowPrediction predict_flow(const FlowInputs& in);

// A conv_flow_stack network's delta prediction (grad_w_log10 is nan but for the output layer:
// a kernel's gradient sums over positions, whose correlations these maps do not track). The
// maps run per position, channels averaged, so zero padding's border units are exact in the
// mean field: the forward variance at position p sums, per tap, the tap's mean square weight
// (of the drawn kernel) times the input's second moment where the tap reads (0 in the padding),
// and the backward signal returns the same way. The input's second moment per position is
// measured on the training inputs (images have dark borders).
FlowPrediction predict_conv_flow(const NetworkLayout& layout, const Parameters& start,
                                 const Examples& train);

// Uniform layers with zero-mean biases of variance sigma_b2 (the textbook setting).
FlowPrediction predict_flow(const ActivationSpec& activation, const std::vector<double>& sigma_w2,
                            double sigma_b2, double q_input, const std::vector<long>& widths,
                            long inputs);

// Why the prediction may not describe this run at init; empty when it should.
std::vector<std::string> theory_caveats(const Config& config, const NetworkLayout& layout,
                                        const FlowPrediction& prediction);

// Copies a prediction into the step-0 layer records and the run summary (nothing when the
// prediction is empty: a network with no prediction).
void attach_prediction(const FlowPrediction& p, std::vector<LayerRecord>& layers);
void attach_prediction(const FlowPrediction& p, RunSummary& summary);

}  // namespace gradflow
