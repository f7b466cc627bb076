// Optimizers over the flat parameter buffer (SGD, momentum with a Nesterov option, Adam) and
// the learning-rate schedule. One loop per tensor so the size of each layer's update can be
// measured on the steps that are logged.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "nn/network.hpp"

namespace gradflow {

template <class T>
struct OptimizerState {
  Vec<T> velocity;  // momentum: v; adam: first moment m
  Vec<T> second;    // adam: second moment v
  Vec<T> applied;   // scratch: one chunk of an update, kept to measure it on logged steps
  long t = 0;       // updates applied
};

template <class T>
OptimizerState<T> make_optimizer_state(const TrainConfig& train, const NetworkLayout& layout);

// Learning rate for the update taken at step `step` (0-based) of `train.steps`.
double learning_rate(const TrainConfig& train, long step);

// What optimizer_step measures, per layers.csv row (its weight-like tensor: W, gamma, the
// prelu slopes, alpha, P), on the steps whose result is logged; NaN for rows without one.
struct UpdateNorms {
  std::vector<double> update;        // ||Delta W_l||_F of this update
  std::vector<double> weight_after;  // ||W_l||_F after it: the next step's weight_norm
};

// theta -= update(grad_scale * grads). grad_scale carries global-norm clipping (1 = none).
// When `norms` is non-null it is filled in the same pass (extra work: only on steps whose
// result is logged).
template <class T>
void optimizer_step(const TrainConfig& train, double lr, double grad_scale, Network<T>& net,
                    OptimizerState<T>& state, UpdateNorms* norms);

}  // namespace gradflow
