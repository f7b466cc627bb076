// The steps just before a divergence: a run logs every log.every steps, so a blow-up that takes
// a few steps (loss 1.8 -> 233 -> 9e9 -> 8e76 -> NaN) would leave only the NaN step in the
// results. A ring buffer, allocated before the first step, keeps the last log.divergence_window
// unlogged steps' step records and per-layer gradient norms (computed every step anyway); when
// the run diverges they are logged, oldest first, before the diverged step.
#pragma once

#include <vector>

#include "nn/network.hpp"
#include "train/probes.hpp"
#include "train/records.hpp"

namespace gradflow {

class TrainObserver;

struct DivergenceWindow {
  long capacity = 0;
  long num_layers = 0;
  long held = 0;  // steps held, <= capacity: those since the last logged step
  long next = 0;  // slot the next step goes to
  std::vector<StepRecord> steps;    // capacity
  std::vector<LayerRecord> layers;  // capacity x num_layers, slot-major
  std::vector<LayerRecord> scratch; // one step's layers, handed to the observer
};

// `layers` gives each row's fixed fields (layer, kind, output, fan_in, fan_out).
DivergenceWindow make_divergence_window(long capacity, const std::vector<LayerRecord>& layers);

// Keeps an unlogged step: its step record's step, lr, loss, grad_norm and clipped, and each
// layer's grad_w_norm and grad_b_norm from `squares`; the other fields stay NaN (no probe
// pass, no delta or weight norms on unlogged steps). Allocates nothing.
template <class T>
void remember_step(DivergenceWindow& window, const StepRecord& step, const Network<T>& net,
                   const StepSquares& squares);

// A step was logged: the steps held before it are in the results already.
inline void forget_steps(DivergenceWindow& window) { window.held = 0; }

// Logs the held steps through `observer`, oldest first, and forgets them.
void log_held_steps(DivergenceWindow& window, TrainObserver& observer);

}  // namespace gradflow
