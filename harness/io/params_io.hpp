// Parameter folders: one .npy per tensor, named by the tensor and its layers.csv row:
// W<l>.npy (fan_out, fan_in) and b<l>.npy (fan_out,) of dense rows, gamma<l>/beta<l> of norm
// rows, slope<l> of prelu rows, alpha<l> of rezero residual rows, P<l> of skip projections;
// row-major as NumPy expects. In a plain MLP l runs over the dense layers, 1 to the output.
#pragma once

#include <string>

#include "nn/network.hpp"

namespace gradflow {

void save_parameters(const std::string& folder, const NetworkLayout& layout, const Parameters& p);

// Loads a folder written by save_parameters (or by the user) and checks every shape against
// `layout`. Errors name the config file and /model/init_from, plus the offending .npy.
Parameters load_parameters(const std::string& folder, const NetworkLayout& layout,
                           const std::string& config_source);

}  // namespace gradflow
