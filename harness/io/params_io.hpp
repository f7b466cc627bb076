// Parameter folders: one .npy per tensor, W<l>.npy (fan_out, fan_in) and b<l>.npy (fan_out,),
// l = 1 for the first hidden layer up to the output layer, row-major as NumPy expects.
#pragma once

#include <string>

#include "nn/model.hpp"

namespace gradflow {

void save_parameters(const std::string& folder, const Parameters& p);

// Loads a folder written by save_parameters (or by the user) and checks every shape against
// `layout`. Errors name the config file and /model/init_from, plus the offending .npy.
Parameters load_parameters(const std::string& folder, const MlpLayout& layout,
                           const std::string& config_source);

}  // namespace gradflow
