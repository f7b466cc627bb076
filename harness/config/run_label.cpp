// Run labels; see run_label.hpp.
#include "config/run_label.hpp"

#include <algorithm>
#include <map>

namespace gradflow {
namespace {

// Compact JSON for a label: long enough for a model.residual object, short enough to read.
constexpr std::size_t kLongLabel = 40;

std::string compact(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A layer key's value, or "" when the layer does not set it (or sets it to its default).
std::string key_text(const Json& layer, const char* key, const char* default_text = "") {
  if (!layer.is_object() || !layer.contains(key)) return "";
  const std::string text = label_value(layer[key]);
  return text == default_text ? "" : text;
}

bool is_layer_list(const Json& value) {
  if (!value.is_array() || value.empty()) return false;
  for (const Json& layer : value)
    if (!layer.is_object() || !layer.contains("kind") || !layer["kind"].is_string()) return false;
  return true;
}

// One layer in a few characters: "dense64", "relu", "bn", "conv16k5s2-valid", "maxpool2",
// "res(dense64 relu)*rezero". Keys at their defaults are left out.
std::string layer_token(const Json& layer) {
  const std::string kind = layer["kind"].get<std::string>();
  if (kind == "dense") return "dense" + key_text(layer, "units");
  if (kind == "activation") return key_text(layer, "activation");
  if (kind == "batch_norm") return "bn";
  if (kind == "layer_norm") return "ln";
  if (kind == "global_avg_pool") return "gap";
  if (kind == "conv2d") {
    const std::string kernel = key_text(layer, "kernel", "3"), stride = key_text(layer, "stride", "1");
    const std::string padding = key_text(layer, "padding", "same");
    return "conv" + key_text(layer, "channels") + (kernel.empty() ? "" : "k" + kernel) +
           (stride.empty() ? "" : "s" + stride) + (padding.empty() ? "" : "-" + padding);
  }
  if (kind == "max_pool" || kind == "avg_pool") {
    const std::string kernel = key_text(layer, "kernel"), stride = key_text(layer, "stride");
    return (kind == "max_pool" ? "maxpool" : "avgpool") + (kernel.empty() ? "2" : kernel) +
           (stride.empty() || stride == (kernel.empty() ? "2" : kernel) ? "" : "s" + stride);
  }
  if (kind == "residual") {
    const std::string scale = key_text(layer, "scale", "1");
    const Json inner = layer.contains("layers") ? layer["layers"] : Json::array();
    return "res(" + label_value(inner) + ")" + (scale.empty() ? "" : "*" + scale);
  }
  return kind;  // prelu, flatten, and a kind this version does not know
}

}  // namespace

std::vector<std::string> label_names(const std::vector<std::string>& keys) {
  const auto last = [](const std::string& k) { return k.substr(k.rfind('.') + 1); };
  std::vector<std::string> names;
  for (const std::string& k : keys) {
    std::size_t same = 0;
    for (const std::string& other : keys) same += last(other) == last(k);
    names.push_back(same > 1 ? k : last(k));
  }
  return names;
}

std::string layers_label(const Json& layers) {
  std::vector<std::string> tokens;
  for (const Json& layer : layers) tokens.push_back(layer_token(layer));
  // Greedy folding: at each place, the block of 1-6 tokens whose repeats cover the most tokens
  // (the shorter block on a tie), so a plain CNN reads "conv8 relu 7x(conv8 relu)".
  std::string out;
  for (std::size_t i = 0; i < tokens.size();) {
    std::size_t best_length = 1, best_repeats = 1;
    for (std::size_t length = 1; length <= 6 && i + 2 * length <= tokens.size(); ++length) {
      std::size_t repeats = 1;
      while (i + (repeats + 1) * length <= tokens.size() &&
             std::equal(tokens.begin() + long(i), tokens.begin() + long(i + length),
                        tokens.begin() + long(i + repeats * length)))
        ++repeats;
      if (repeats >= 2 && repeats * length > best_repeats * best_length)
        best_length = length, best_repeats = repeats;
    }
    std::string block;
    for (std::size_t k = 0; k < best_length; ++k) block += (k ? " " : "") + tokens[i + k];
    if (best_repeats > 1)
      block = std::to_string(best_repeats) + "x" + (best_length > 1 ? "(" + block + ")" : block);
    out += (out.empty() ? "" : " ") + block;
    i += best_length * best_repeats;
  }
  return out;
}

std::string label_value(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (is_layer_list(value)) return layers_label(value);
  std::string text = compact(value);
  if (value.is_object() && text.size() > kLongLabel) {
    text = "{";
    for (const auto& [key, item] : value.items())
      text += (text.size() > 1 ? " " : "") + key + "=" + label_value(item);
    text += "}";
  }
  return text;
}

std::vector<std::string> distinct_labels(const std::vector<Json>& values) {
  std::vector<std::string> labels;
  std::map<std::string, std::vector<Json>> values_of;  // label -> its distinct values, in order
  std::vector<const Json*> distinct;
  for (const Json& v : values) {
    labels.push_back(label_value(v));
    std::vector<Json>& seen = values_of[labels.back()];
    if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
    if (std::none_of(distinct.begin(), distinct.end(), [&](const Json* d) { return *d == v; }))
      distinct.push_back(&v);
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values_of[labels[i]].size() < 2) continue;
    const auto place = std::find_if(distinct.begin(), distinct.end(),
                                    [&](const Json* d) { return *d == values[i]; });
    labels[i] += "#" + std::to_string(place - distinct.begin() + 1);
  }
  return labels;
}

}  // namespace gradflow
