// Per-layer measurements: gradient and weight norms from the training step, and activation
// statistics from a forward pass over the fixed probe set. Fills LayerRecords; no I/O.
#pragma once

#include <map>
#include <vector>

#include "data/data.hpp"
#include "train/lifecycle.hpp"
#include "nn/loss.hpp"
#include "nn/model.hpp"
#include "train/records.hpp"

namespace gradflow {

// Per-layer sums of squares from one training step, in squared_norm_wide()'s order.
// grad_w and grad_b are filled every step (the global gradient norm is their sum, so the
// per-layer gradient norms of a logged step cost nothing extra); delta on logged steps.
struct StepSquares {
  std::vector<double> grad_w, grad_b, delta;
};
StepSquares make_step_squares(long num_layers);

// Fills squares.grad_w and squares.grad_b from mlp.grads and returns the global gradient
// norm, sqrt of their sum (rescaled like norm() at the edges of double's range).
template <class T>
double gradient_squares(const Mlp<T>& mlp, StepSquares& squares);

// squares.delta from ws.delta, for a logged step whose backward pass did not measure it.
template <class T>
void delta_squares(const Workspace<T>& ws, StepSquares& squares);

// grad_w_norm, grad_b_norm, delta_norm, weight_norm, bias_norm of every layer for the step
// just computed, from `squares`. weight_norms (if non-null) are the norms the optimizer
// measured as it wrote the current weights; otherwise they are measured here.
// records.size() == number of layers.
template <class T>
void measure_gradients(const Mlp<T>& mlp, const Workspace<T>& ws, const StepSquares& squares,
                       const std::vector<double>* weight_norms,
                       std::vector<LayerRecord>& records);

// The probe set in the run's precision plus per-width scratch buffers, allocated on first use
// so repeated probe passes do not allocate. Layers are processed one at a time, so memory is
// O(width x probe size), not O(depth x width x probe size).
template <class T>
struct ProbeSet {
  Mat<T> x;                 // (inputs, probe size)
  Mat<T> y;                 // targets (outputs, probe size); one-hot for classification
  std::vector<int> labels;  // classification labels
  struct Buffers {
    Mat<T> z, a, dphi;
    Vec<T> row_max_z, row_max_dphi;
  };
  std::map<long, Buffers> by_width;  // keyed by fan_out
};

template <class T>
ProbeSet<T> make_probe_set(const Examples& probe, long outputs);

struct ProbeOutcome {
  double loss = kNaN;
  double accuracy = kNaN;  // NaN for regression
};

// Forward pass over the probe set: preact/act moments and dead / inactive / saturated
// fractions per layer into `records`, which units are dead into `units` (if non-null), and
// the probe loss.
template <class T>
ProbeOutcome measure_probe(const Mlp<T>& mlp, Task task, bool cross_entropy, ProbeSet<T>& probe,
                           std::vector<LayerRecord>& records, UnitStates* units);

// Sets every field measure_probe fills back to NaN (a logged step without a probe pass).
void clear_probe_fields(LayerRecord& record);

}  // namespace gradflow
