// Data sets, all seeded: synthetic generators and loaders for CSV, IDX (Fashion-MNIST, MNIST)
// and .npy files. Each returns the training set and a held-out probe set (activation statistics
// are measured on the probe set).
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include "config/config.hpp"
#include "nn/numeric.hpp"

namespace gradflow {

struct Examples {
  MatD x;  // (features, n); empty when x32 holds the inputs
  // (features, n): file data loaded for a float32 run is held in float32 only (60000 x 784
  // Fashion-MNIST images are 376 MB in double, 188 MB in float). Synthetic data stays in x.
  Mat<float> x32;
  MatD y;                   // regression: (outputs, n); classification: empty
  std::vector<int> labels;  // classification: n labels in [0, classes); regression: empty
  long size() const { return x32.size() ? x32.cols() : x.cols(); }
  long features() const { return x32.size() ? x32.rows() : x.rows(); }
};

// The inputs in precision T: the held matrix when it is of that precision (no copy), else
// their cast into `scratch`.
template <class T>
const Mat<T>& inputs_as(const Examples& e, Mat<T>& scratch) {
  if constexpr (std::is_same_v<T, float>) {
    if (e.x32.size()) return e.x32;
  } else {
    if (!e.x32.size()) return e.x;
  }
  if (e.x32.size())
    scratch = e.x32.template cast<T>();
  else
    scratch = e.x.template cast<T>();
  return scratch;
}

struct Dataset {
  Task task = Task::classification;
  long inputs = 0;
  long outputs = 0;  // classes for classification, target dimension for regression
  // (channels, height, width) when each example is an image (IDX images, N x C x H x W .npy),
  // flattened channel by channel, row by row into the `inputs` features; else empty.
  std::vector<long> image_shape;
  Examples train;
  Examples probe;
};

// Builds the data set `d` describes, seeded by `seed` (the config's data.seed or run seed).
// File data (csv, idx, fashion_mnist, npy) is held in `precision` (train.x32 for float32);
// synthetic data is always generated and held in double (train.x).
// Throws InputError (file, JSON path, line number) for problems with data files: missing or
// unreadable file, unknown column, non-numeric or NaN cell, ragged row, labels out of range,
// too few rows, a corrupt gzip stream, a wrong IDX magic number, counts that differ.
Dataset make_dataset(const DataConfig& d, std::uint64_t seed, const std::string& config_source,
                     Precision precision = Precision::float64);

// Whether the data set depends on the seed (file data split in file order does not), so that a
// sweep over seeds can share one loaded copy.
bool dataset_uses_seed(const DataConfig& d);

}  // namespace gradflow
