// Plain records that training emits and writers format: one per logged step, one per logged
// step x layer, and the run's summary. Computation fills them; it never formats text.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nn/network.hpp"

namespace gradflow {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One row of layers.csv: a layer with parameters or one that feeds an activation, in forward
// order (docs/output.md). In a plain MLP row l is dense layer l; the last row is the output
// layer, whose moments are taken on the logits and whose dead / inactive / saturated
// fractions are NaN (it has no nonlinearity). Activation statistics sit on the row whose
// output the activation reads.
struct LayerRecord {
  long step = 0;
  int layer = 0;  // 1-based row number
  RowKind kind = RowKind::dense;
  bool output = false;  // the output layer (linear)
  long fan_in = 0;
  long fan_out = 0;
  // On the training batch of this step, of the batch-mean loss.
  double grad_w_norm = kNaN;  // ||dL/dW_l||_F
  double grad_b_norm = kNaN;  // ||dL/db_l||_2
  // RMS over the batch's examples of the per-example back-propagated signal ||dl_i/dz_l||,
  // l_i the example's own loss (so it does not shrink with batch size).
  double delta_norm = kNaN;
  double weight_norm = kNaN;   // ||W_l||_F
  double bias_norm = kNaN;     // ||b_l||_2
  double update_ratio = kNaN;  // ||W_l(t) - W_l(t-1)||_F / ||W_l(t-1)||_F; NaN at step 0
  // On the probe set: moments over all (unit, example) pairs.
  double preact_mean = kNaN;
  double preact_std = kNaN;
  double act_mean = kNaN;
  double act_std = kNaN;
  // Units of an activation on images (H W > 1) are its channels for dead_fraction (a filter
  // with phi' == 0 at every position of every probe input; tracked_units in lifecycle.hpp),
  // and its (channel, position) values for inactive_fraction and saturated_fraction.
  double dead_fraction = kNaN;       // units with phi'(z) == 0 on every probe input
  double inactive_fraction = kNaN;   // units with z <= 0 on every probe input
  double saturated_fraction = kNaN;  // (unit, input) pairs with |phi'(z)| < 1% of max |phi'|
  // Step 0 only: the mean-field prediction (theory.hpp) of log10(delta_norm / output layer's)
  // and of log10(grad_w_norm / output layer's).
  double theory_delta_log10 = kNaN;
  double theory_grad_w_log10 = kNaN;
  // prelu rows: the learned slopes' mean and minimum. residual rows: the branch scale s
  // (alpha for rezero).
  double slope_mean = kNaN;
  double slope_min = kNaN;
  double gate = kNaN;
  // From the training forward pass (every step, no probe pass), on the row feeding an
  // activation: the share of its units with phi' = 0 on every example of this step's batch,
  // and how many units fired on no training example of the last log.dead_window steps
  // (units: channels on images, as dead_fraction).
  double batch_dead_fraction = kNaN;
  double window_dead_units = kNaN;
  // conv2d rows only (NaN on every other row): C_in, C_out, k, the stride, and the output's
  // H' x W'. Whole numbers, kept as doubles so that "none" is NaN like every missing cell.
  double c_in = kNaN;
  double c_out = kNaN;
  double kernel = kNaN;
  double stride = kNaN;
  double height = kNaN;
  double width = kNaN;
};

// One row of steps.csv.
struct StepRecord {
  long step = 0;
  double lr = kNaN;         // learning rate of the update that follows this step
  double loss = kNaN;       // training batch loss at this step's parameters
  double accuracy = kNaN;   // training batch; NaN for regression
  double probe_loss = kNaN;      // held-out probe set
  double probe_accuracy = kNaN;  // NaN for regression
  double grad_norm = kNaN;  // global ||dL/dtheta||_2 before clipping
  bool clipped = false;     // this step's update was clipped
};

// One row of lifecycle.csv: a hidden layer's units over the logged steps, on the probe set.
struct LifecycleRecord {
  int layer = 0;
  long units = 0;
  long born_dead = 0;         // dead at step 0
  long died = 0;              // alive at step 0, dead at some later logged step
  long died_dead_at_end = 0;  // of those, still dead at the last logged step
  long revived = 0;           // dead at some logged step, alive at a later one
  long dead_at_end = 0;       // dead at the last logged step (born dead or died)
  long first_death_step = -1; // first logged step at which a unit alive at init was dead
  long last_death_step = -1;  // last logged step at which such a unit was first seen dead
};

enum class RunStatus { completed, diverged };

// summary.json.
struct RunSummary {
  RunStatus status = RunStatus::completed;
  long steps_done = 0;            // updates applied
  long diverged_step = -1;        // first step with a non-finite loss, gradient or weight
  std::string diverged_reason;    // "loss", "gradient" or "weights"
  double final_loss = kNaN;
  double final_accuracy = kNaN;
  double final_probe_loss = kNaN;
  double final_probe_accuracy = kNaN;
  // log10(grad_w_norm of layer 1 / grad_w_norm of the last layer): < 0 vanishing.
  double grad_ratio_log10_init = kNaN;
  double grad_ratio_log10_final = kNaN;
  // Same for delta_norm.
  double delta_ratio_log10_init = kNaN;
  double delta_ratio_log10_final = kNaN;
  // The mean-field predictions of grad_ratio_log10_init and delta_ratio_log10_init, and why
  // they may not apply to this run (empty: they should).
  double theory_grad_ratio_log10 = kNaN;
  double theory_delta_ratio_log10 = kNaN;
  std::vector<std::string> theory_caveats;
  double max_dead_fraction_init = kNaN;   // "born dead": largest per-layer dead fraction
  double max_dead_fraction_final = kNaN;
  // Largest per-layer share of units that were alive at step 0 and are dead at the end.
  double units_died_fraction = kNaN;
  long units_revived = 0;       // over all layers
  double grad_norm_init = kNaN; // global gradient norm at step 0
  double max_grad_norm = kNaN;  // largest finite global gradient norm over every step
  long parameters = 0;
  std::string verdict;   // headline verdict (verdict.hpp)
  std::string verdicts;  // every verdict that applies, '+'-joined, precedence order
};

}  // namespace gradflow
