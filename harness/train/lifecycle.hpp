// Unit lifecycle on the probe set: which hidden units were born dead (dead at step 0), died
// during training (alive at step 0, dead at a later logged step), and revived (dead at one
// logged step, alive at a later one). Deep nets have units inactive on every probe input
// already at init, so "dying" is judged against this step-0 baseline, not against zero.
#pragma once

#include <cstdint>
#include <vector>

#include "train/records.hpp"

namespace gradflow {

// The units an activation layer's dead counts are over (dead_fraction, batch_dead_fraction,
// window_dead_units, lifecycle.csv): its channels when it acts on an image (H W > 1), so a conv
// filter is dead only when it fires at no position of any example; else its values.
inline long tracked_units(const Layer& l) {
  return l.out_shape.positions() > 1 ? l.out_shape.c : l.out_units;
}

// Per hidden layer and tracked unit (a channel on images), 1 when phi'(z) == 0 on every probe input at this step. Filled
// by measure_probe; sized once by make_unit_states.
struct UnitStates {
  std::vector<std::vector<std::uint8_t>> dead;
};
UnitStates make_unit_states(const std::vector<long>& hidden_widths);

struct LifecycleTracker {
  std::vector<std::vector<long>> first_death_step;  // -1: never died after being alive
  std::vector<std::vector<std::uint8_t>> born_dead, revived, dead_now, was_dead;
  bool started = false;
};
LifecycleTracker make_lifecycle_tracker(const std::vector<long>& hidden_widths);

// Folds the states measured at logged step `step` into the tracker (steps in increasing order).
void observe_units(LifecycleTracker& t, const UnitStates& now, long step);

// One record per hidden layer, as of the last observed step.
std::vector<LifecycleRecord> lifecycle_records(const LifecycleTracker& t);

}  // namespace gradflow
