// Data sets, all seeded: synthetic generators and a CSV loader. Each returns the training set
// and a held-out probe set (activation statistics are measured on the probe set).
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "nn/numeric.hpp"

namespace gradflow {

struct Examples {
  MatD x;                   // (features, n)
  MatD y;                   // regression: (outputs, n); classification: empty
  std::vector<int> labels;  // classification: n labels in [0, classes); regression: empty
  long size() const { return x.cols(); }
};

struct Dataset {
  Task task = Task::classification;
  long inputs = 0;
  long outputs = 0;  // classes for classification, target dimension for regression
  Examples train;
  Examples probe;
};

// Builds the data set `d` describes, seeded by `seed` (the config's data.seed or run seed).
// Throws InputError (file, JSON path, line number) for CSV problems: missing or unreadable
// file, unknown column, non-numeric or NaN cell, ragged row, labels out of range, too few rows.
Dataset make_dataset(const DataConfig& d, std::uint64_t seed, const std::string& config_source);

}  // namespace gradflow
