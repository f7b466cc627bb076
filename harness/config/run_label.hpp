// A run's readable label: "depth=16/activation=relu/seed=2". Swept layer stacks get a short
// description ("conv8-circular relu maxpool4 7x(conv8-circular relu) flatten"), not their JSON,
// so runs.csv and the report's legends stay readable when a sweep varies model.layers.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gradflow {

using Json = nlohmann::ordered_json;

// "depth" for model.depth, unless another swept key also ends in "depth": then the full key.
std::vector<std::string> label_names(const std::vector<std::string>& keys);

// Strings as they are; a list of layer objects described as above; a long object as
// "{key=value ...}" with its values labelled the same way; anything else as compact JSON
// (numbers in shortest form).
std::string label_value(const Json& value);

// Labels of a list of values, each as label_value says, with "#n" appended where different
// values would read the same (a layer description leaves details out): n is the value's place
// among the distinct values, 1-based, so in a sweep's list it is its position.
std::vector<std::string> distinct_labels(const std::vector<Json>& values);

// The layer list's description: one token per layer, runs of a repeated block folded ("7x(…)").
std::string layers_label(const Json& layers);

}  // namespace gradflow
