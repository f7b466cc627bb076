// Per-layer measurements: gradient and weight norms from the training step, and activation
// statistics from a forward pass over the fixed probe set. Fills LayerRecords; no I/O.
#pragma once

#include <map>
#include <vector>

#include "data/data.hpp"
#include "train/lifecycle.hpp"
#include "nn/loss.hpp"
#include "nn/network.hpp"
#include "train/records.hpp"

namespace gradflow {

// Per-row sums of squares from one training step, in squared_norm_wide()'s order.
// grad_w and grad_b (the row's weight-like and bias-like tensors) are filled every step (the
// global gradient norm is their sum, so the per-row gradient norms of a logged step cost
// nothing extra); delta on logged steps.
struct StepSquares {
  std::vector<double> grad_w, grad_b, delta;
};
StepSquares make_step_squares(const NetworkLayout& layout);

// Fills squares.grad_w and squares.grad_b from net.grads and returns the global gradient
// norm, sqrt of their sum (rescaled like norm() at the edges of double's range).
template <class T>
double gradient_squares(const Network<T>& net, StepSquares& squares);

// squares.delta from the workspace, for a logged step whose backward pass did not measure it.
template <class T>
void delta_squares(const NetworkLayout& layout, const Workspace<T>& ws, StepSquares& squares);

// grad_w_norm, grad_b_norm, delta_norm, weight_norm, bias_norm, slope and gate fields of every
// row for the step just computed, from `squares`. weight_norms (if non-null) are the norms the
// optimizer measured as it wrote the current weight-like tensors; otherwise they are measured
// here. records.size() == number of rows.
template <class T>
void measure_gradients(const Network<T>& net, const Workspace<T>& ws, const StepSquares& squares,
                       const std::vector<double>* weight_norms,
                       std::vector<LayerRecord>& records);

// The probe set in the run's precision, an eval-pass workspace for it, and per-width scratch,
// allocated once so repeated probe passes do not allocate.
template <class T>
struct ProbeSet {
  Mat<T> y;                 // targets (outputs, probe size); one-hot for classification
  std::vector<int> labels;  // classification labels
  Workspace<T> ws;          // ws.input holds the probe inputs
  struct RowMax {
    Vec<T> z, dphi;
  };
  std::map<long, RowMax> by_width;  // keyed by units
};

template <class T>
ProbeSet<T> make_probe_set(const NetworkLayout& layout, const Examples& probe, long outputs);

struct ProbeOutcome {
  double loss = kNaN;
  double accuracy = kNaN;  // NaN for regression
};

// Forward pass (eval) over the probe set: moments of every row's output, activation
// moments and dead / inactive / saturated fractions on the row that feeds each activation,
// which units are dead into `units` (one entry per activation layer, if non-null), and the
// probe loss.
template <class T>
ProbeOutcome measure_probe(Network<T>& net, Task task, bool cross_entropy, ProbeSet<T>& probe,
                           std::vector<LayerRecord>& records, UnitStates* units);

// layer, kind, fan_in, fan_out, output and (conv2d rows) the shape columns of every row.
void describe_rows(const NetworkLayout& layout, std::vector<LayerRecord>& records);

// The tracked units (tracked_units: channels on images) of each activation layer
// (lifecycle.csv), and the row each one reports on.
std::vector<long> activation_widths(const NetworkLayout& layout);
std::vector<int> activation_rows(const NetworkLayout& layout);

// Sets every field measure_probe fills back to NaN (a logged step without a probe pass).
void clear_probe_fields(LayerRecord& record);

}  // namespace gradflow
