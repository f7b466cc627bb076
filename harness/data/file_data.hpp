// Loaders behind make_dataset for image and array files (internal to the data module; callers
// use make_dataset): data.kind "fashion_mnist", "idx" and "npy". Formats, splits and the
// scaling are documented in file_data.cpp and docs/config.md.
#pragma once

#include <cstdint>
#include <string>

#include "data/data.hpp"

namespace gradflow {

// Throws InputError naming the file (or `config_source` and the JSON path for a missing one).
Dataset load_fashion_mnist(const DataConfig& d, const std::string& config_source,
                           Precision precision);
Dataset load_idx_dataset(const DataConfig& d, std::uint64_t seed, const std::string& config_source,
                         Precision precision);
Dataset load_npy_dataset(const DataConfig& d, std::uint64_t seed, const std::string& config_source,
                         Precision precision);

}  // namespace gradflow
