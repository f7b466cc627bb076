// Dead units from the training forward pass, which runs anyway (issue 16): for every
// activation layer, which units fired (phi' != 0) on some example of this step's batch, and
// for how many steps each has not fired. On images the units are channels: a filter fired
// when it did at some position of some example. Costs one pass over phi' per step, while it is in
// cache; the probe pass's dead_fraction needs 512 more examples through the network.
#pragma once

#include <vector>

#include "nn/network.hpp"
#include "train/records.hpp"

namespace gradflow {

template <class T>
struct DeadUnitTracker final : LayerObserver<T> {
  long window = 100;
  long step = 0;  // the step whose forward pass is running
  struct Units {
    int row = -1;           // the layers.csv row that feeds the activation
    long positions = 1;     // H W of an image activation, whose tracked units are channels
    Vec<T> fired;           // (C H W values): max over the batch of |phi'|
    std::vector<long> last_fired;  // per tracked unit (tracked_units): step it last fired; -1 never
    long dead_on_batch = 0;
  };
  std::vector<Units> layers;  // one per activation layer, in the order forward runs them
  std::size_t next = 0;

  void after_forward(const Layer& layer, const Mat<T>& in, Workspace<T>& ws) override;
};

template <class T>
DeadUnitTracker<T> make_dead_unit_tracker(const NetworkLayout& layout, long window);

// Sets batch_dead_fraction and window_dead_units on each activation's feeding row for the
// step the tracker last saw.
template <class T>
void record_dead_units(const DeadUnitTracker<T>& tracker, std::vector<LayerRecord>& records);

}  // namespace gradflow
