// What a sweep will cost before it runs: the network each run trains and its work in
// parameter-steps (parameters x training steps), computed without generating synthetic data.
#pragma once

#include <cstddef>
#include <vector>

#include "config/config.hpp"
#include "config/sweep.hpp"

namespace gradflow {

struct NetworkShape {
  long inputs = 0;
  long outputs = 0;  // classes for classification, target dimension for regression
  std::vector<long> image_shape;  // the data's (C, H, W), empty for flat features
};

// Synthetic data: read off the data config (flat features). File data: the file decides (its features, its labels'
// range), so it is loaded; throws InputError for a bad file like any run would.
NetworkShape network_shape(const Config& config);

struct RunWork {
  std::size_t parameters = 0;
  long steps = 0;
  double parameter_steps = 0;  // parameters x steps; double: a sweep's total can pass 2^64
};

struct WorkEstimate {
  std::vector<RunWork> runs;  // one per run, in order
  double total = 0;
  double largest = 0;  // parameter-steps of the largest run
};

// Loads each distinct csv data config once, whatever the number of runs sharing it.
WorkEstimate estimate_work(const std::vector<RunSpec>& runs);

}  // namespace gradflow
