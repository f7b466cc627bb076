// One run end to end: everything that depends on user input is checked first (prepare_run),
// then training streams its records into the run folder (execute_run). summary.json is written
// last, so its presence marks a complete run.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "data/data.hpp"
#include "nn/network.hpp"
#include "train/records.hpp"

namespace gradflow {

struct PreparedRun {
  Config config;
  Dataset data;  // built for this run, or empty when `shared_data` is set
  std::shared_ptr<const Dataset> shared_data;  // one copy for the runs of a sweep that use it
  NetworkLayout layout;
  Parameters start;
  const Dataset& dataset() const { return shared_data ? *shared_data : data; }
};

// Builds the data set and the initial parameters (drawn, or loaded from model.init_from) and
// refuses a run whose memory would not fit this machine (before generating synthetic data).
// Throws InputError; writes nothing.
PreparedRun prepare_run(const Config& config);
// The same with a data set already built for this config (make_dataset with its data section,
// data seed and precision), shared read-only with other runs.
PreparedRun prepare_run(const Config& config, std::shared_ptr<const Dataset> data);

// Builds the data set `config` trains on, in the run's precision (see make_dataset).
Dataset build_dataset(const Config& config);

// Refuses (InputError naming the config and /model or /data) a run whose estimated memory
// exceeds 80% of this machine's, from its config alone (a csv file is read for its shape).
void check_run_memory(const Config& config);

// Bytes a run needs: parameters, gradients, optimizer state, batch and probe activations, and
// its data set (estimated_data_bytes, which counts a teacher_student teacher's forward pass).
std::size_t estimated_run_bytes(const Config& config, const NetworkLayout& layout);
std::size_t estimated_data_bytes(const Config& config, const NetworkLayout& layout);

// Called after every step; return false to stop (the run then leaves no summary.json).
using ProgressFn = std::function<bool(long step, long steps, double loss)>;

struct RunOutcome {
  RunSummary summary;
  bool interrupted = false;
  std::vector<LayerRecord> init_layers;   // step 0
  std::vector<LayerRecord> final_layers;  // last logged step
  std::vector<LifecycleRecord> lifecycle;
};

// Clears out_dir of any earlier run (clear_run_folder; the caller holds its lock), then writes
// out_dir/{config.json, steps.csv, layers.csv, lifecycle.csv, params_init/, params_final/,
// summary.json}, each atomically. An interrupted run leaves no summary.json and no CSVs.
RunOutcome execute_run(PreparedRun run, const std::string& out_dir,
                       const ProgressFn& progress);

}  // namespace gradflow
