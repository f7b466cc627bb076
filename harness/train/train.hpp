// The training loop: one run, single-threaded, deterministic. It emits plain records to an
// observer at every logged step and returns the run's summary; a NaN or Inf is a result
// (status diverged), never an exception.
#pragma once

#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "data/data.hpp"
#include "nn/network.hpp"
#include "train/records.hpp"

namespace gradflow {

// Receives what a run produces. No method has a default: a consumer decides about each.
class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  // Step 0, every log.every steps, the last step, and the step that diverged.
  virtual void on_log(const StepRecord& step, const std::vector<LayerRecord>& layers) = 0;
  // After every step's forward/backward pass; returning false stops the run (interrupt).
  virtual bool on_progress(long step, long steps, double loss) = 0;
  // With log.save_params: when = "init" (before the first update) and "final".
  virtual void on_parameters(std::string_view when, const NetworkLayout& layout,
                             const Parameters& params) = 0;
};

struct TrainResult {
  RunSummary summary;
  std::vector<LifecycleRecord> lifecycle;  // one per activation layer
  bool interrupted = false;  // stopped by the observer; the summary is incomplete
};

// The network for this data: data.inputs -> the model's layers -> data.outputs.
NetworkLayout layout_for(const Config& config, const Dataset& data);

// Draws the initial parameters (init / bias_init, stream "init" of the seed).
Parameters initial_parameters(const Config& config, const NetworkLayout& layout);

// Trains from `start` (initial_parameters, or loaded from model.init_from).
TrainResult train(const Config& config, const Dataset& data, Parameters start,
                  TrainObserver& observer);

}  // namespace gradflow
