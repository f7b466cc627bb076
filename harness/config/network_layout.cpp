// See network_layout.hpp. The shape checks walk the specs the way nn/network.cpp's builder
// does, so that every spec reaching make_network_layout is one its assertions accept.
#include "config/network_layout.hpp"

#include <string>

#include "base/errors.hpp"
#include "config/config_reader.hpp"
#include "config/model_config.hpp"

namespace gradflow {
namespace {

bool reads_image(LayerKind k) {
  return k == LayerKind::conv2d || k == LayerKind::max_pool || k == LayerKind::avg_pool ||
         k == LayerKind::global_avg_pool;
}

bool uses_image(const std::vector<LayerSpec>& layers) {
  for (const LayerSpec& s : layers)
    if (reads_image(s.kind) || uses_image(s.body)) return true;
  return false;
}

std::string shape_text(const Shape& s) {
  return std::to_string(s.c) + " x " + std::to_string(s.h) + " x " + std::to_string(s.w) +
         " (C x H x W)";
}

std::string in_quotes(std::string_view text) { return describe_value(Json(std::string(text))); }

// The data a run reads, as the config names it: kind, and the file when there is one.
std::string data_text(const DataConfig& d) {
  std::string text = "data.kind " + in_quotes(data_kind_name(d.kind));
  if (is_file_data(d.kind) && !d.path.empty()) text += " (file " + in_quotes(d.path) + ")";
  return text;
}

struct ShapeCheck {
  const Config& config;
  const NetworkInput& input;

  // A problem with model.conv's expansion is reported at the model.conv key that caused it;
  // a model.layers entry at the entry.
  static std::string key_path(const std::string& origin, std::string_view conv_key) {
    if (origin.rfind("/model/conv", 0) != 0) return origin;
    return conv_key.empty() ? "/model/conv" : "/model/conv/" + std::string(conv_key);
  }

  [[noreturn]] void fail(const std::string& path, std::size_t index, const LayerSpec& s,
                         const std::string& what) const {
    throw InputError(config.source, path,
                     "layer " + std::to_string(index) + " (" +
                         std::string(layer_kind_name(s.kind)) + ") " + what);
  }

  // `flat_by`: the layer that made the activation a flat vector ("" while it is an image).
  Shape walk(const std::vector<LayerSpec>& specs, const std::vector<std::string>& paths,
             Shape shape, std::string& flat_by) const {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const LayerSpec& s = specs[i];
      const std::string& origin = paths[i];
      if (reads_image(s.kind)) {
        if (!input.image)
          fail(key_path(origin, ""), i, s,
               "needs data with an image shape (C, H, W), but " + data_text(config.data) +
                   " gives " + std::to_string(shape.size()) +
                   " flat features; conv and pool layers read IDX images (data.kind "
                   "\"fashion_mnist\", \"idx\") or N x H x W / N x C x H x W .npy arrays");
        if (!flat_by.empty())
          fail(origin, i, s,
               "reads the flat output of " + flat_by + ", " + shape_text(shape) +
                   ": conv and pool layers need an image (C, H, W), so they must come before "
                   "any flatten or dense layer");
      }
      switch (s.kind) {
        case LayerKind::dense:
          shape = {s.units, 1, 1};
          flat_by = "layer " + std::to_string(i) + " (dense)";
          break;
        case LayerKind::flatten:
          shape = {shape.size(), 1, 1};
          flat_by = "layer " + std::to_string(i) + " (flatten)";
          break;
        case LayerKind::conv2d:
          if (s.padding == Padding::valid && (s.kernel > shape.h || s.kernel > shape.w))
            fail(key_path(origin, "kernel"), i, s,
                 "has a " + std::to_string(s.kernel) + " x " + std::to_string(s.kernel) +
                     " kernel with valid padding (none), larger than its input " +
                     shape_text(shape) +
                     ", so no output position is left; use a smaller kernel, padding \"same\" "
                     "or \"circular\", or fewer pools before it");
          shape = {s.channels, conv_output_size(shape.h, s.kernel, s.stride, s.padding),
                   conv_output_size(shape.w, s.kernel, s.stride, s.padding)};
          break;
        case LayerKind::max_pool:
        case LayerKind::avg_pool:
          if (s.kernel > shape.h || s.kernel > shape.w)
            fail(key_path(origin, "pool_size"), i, s,
                 "has a " + std::to_string(s.kernel) + " x " + std::to_string(s.kernel) +
                     " window, larger than its input " + shape_text(shape) +
                     ", so the pools shrink the image to " +
                     std::to_string(conv_output_size(shape.h, s.kernel, s.stride,
                                                     Padding::valid)) +
                     " x " +
                     std::to_string(conv_output_size(shape.w, s.kernel, s.stride,
                                                     Padding::valid)) +
                     "; use fewer or smaller pools, or a larger image");
          shape = {shape.c, conv_output_size(shape.h, s.kernel, s.stride, Padding::valid),
                   conv_output_size(shape.w, s.kernel, s.stride, Padding::valid)};
          break;
        case LayerKind::global_avg_pool:
          shape = {shape.c, 1, 1};
          break;
        case LayerKind::residual: {
          std::vector<std::string> body_paths;
          for (std::size_t j = 0; j < s.body.size(); ++j)
            body_paths.push_back(origin.rfind("/model/layers", 0) == 0
                                     ? origin + "/layers/" + std::to_string(j)
                                     : origin);
          shape = walk(s.body, body_paths, shape, flat_by);
          break;
        }
        case LayerKind::activation:
        case LayerKind::prelu:
        case LayerKind::batch_norm:
        case LayerKind::layer_norm:
          break;
      }
    }
    return shape;
  }
};

}  // namespace

NetworkInput network_input(long features, const std::vector<long>& image_shape) {
  if (image_shape.size() != 3) return {Shape{features, 1, 1}, false};
  const Shape shape{image_shape[0], image_shape[1], image_shape[2]};
  GF_ASSERT(shape.size() == features);
  return {shape, true};
}

std::vector<LayerSpec> hidden_layers(const ModelConfig& model) { return model_layers(model); }

NetworkLayout network_layout(const Config& config, const NetworkInput& input, long outputs) {
  const std::vector<LayerSpec> hidden = hidden_layers(config.model);
  std::string flat_by;
  ShapeCheck{config, input}.walk(hidden, model_layer_paths(config.model), input.shape, flat_by);
  // A stack with no conv or pool layer reads the image flat, as every run did before images
  // reached the layout: a norm or prelu in front of the first dense layer then works per
  // feature, not per channel, and such runs stay bit-identical.
  const Shape shape = uses_image(hidden) ? input.shape : Shape{input.shape.size(), 1, 1};
  return make_network_layout(shape, hidden, outputs);
}

}  // namespace gradflow
