// The CSV loader behind make_dataset for data.kind "csv" (internal to the data module; callers
// use make_dataset). Format, limits and error messages are documented in csv_data.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>

#include "data/data.hpp"

namespace gradflow {

// Loads d.path (relative paths are resolved against the folder of `config_source`), shuffles
// the rows with make_rng(seed, "data"), holds out d.probe_size rows as the probe set and takes
// up to d.train_size of the rest for training. Throws InputError: problems in the config
// (unknown column, unreadable file) name `config_source` and the JSON path; problems inside
// the file name the resolved file and the line number.
Dataset load_csv_dataset(const DataConfig& d, std::uint64_t seed, const std::string& config_source);

// The same from an open stream whose content came from `file` (the fuzzer feeds it bytes).
Dataset read_csv_dataset(std::istream& in, const std::string& file, const DataConfig& d,
                         std::uint64_t seed, const std::string& config_source);

// Refuses (InputError naming `file`) a CSV of `lines` lines whose `used_columns` would not fit
// in 80% of `have` bytes of memory: held at once are the parsed rows, their train/probe split
// and training's copy, 8 bytes a value each. Called before any row is parsed.
void check_csv_memory(long lines, std::size_t used_columns, const std::string& file,
                      std::size_t have);

}  // namespace gradflow
