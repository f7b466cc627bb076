// The "model" section: shorthand keys and explicit layer lists read with their JSON paths,
// written back canonically, and expanded into LayerSpecs; see model_config.hpp.
#include "config/model_config.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <string>

#include "base/errors.hpp"
#include "config/conv_config.hpp"

namespace gradflow {
namespace {

constexpr std::array<std::string_view, 3> kNormNames = {"none", "batch", "layer"};
constexpr std::array<std::string_view, 2> kBiasInitNames = {"constant", "normal"};
// The names a residual scale may take besides a number, in ResidualScale order from 1.
constexpr std::array<std::string_view, 2> kScaleNames = {"inv_sqrt_blocks", "rezero"};
static_assert(std::size_t(Norm::layer) + 1 == kNormNames.size());
static_assert(std::size_t(BiasInit::normal) + 1 == kBiasInitNames.size());
static_assert(std::size_t(ResidualScale::rezero) == kScaleNames.size());

constexpr const char* kPrelu = "prelu";
// model.activation and a layer's "activation": the 10 fixed activations, then prelu.
const std::vector<std::string_view>& activation_choices() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> n(kActivationNames.begin(), kActivationNames.end());
    n.push_back(kPrelu);
    return n;
  }();
  return names;
}

// The keys model.layers replaces; "residual": null is absent, so it does not count.
constexpr std::array<std::string_view, 11> kShorthandKeys = {
    "depth",      "width", "activation",  "leaky_slope",   "elu_alpha", "prelu_init",
    "norm",       "norm_affine", "norm_momentum", "residual", "conv"};

// A layer's "init", "slope" and "alpha" default to the shorthand keys' defaults.
const double kDefaultPreluInit = ModelConfig{}.prelu_init;
const double kDefaultLeakySlope = ModelConfig{}.leaky_slope;
const double kDefaultEluAlpha = ModelConfig{}.elu_alpha;
constexpr long kDefaultPool = 2;  // max_pool, avg_pool: 2 x 2 windows, stride 2
const NumberRange kMomentumRange = {0.0, 1.0, true, false};  // (0, 1]

std::string in_quotes(std::string_view text) { return describe_value(Json(std::string(text))); }

std::string list_names(std::span<const std::string_view> names) {
  std::string text;
  for (std::string_view n : names) text += (text.empty() ? "" : ", ") + std::string(n);
  return text;
}

// A positive integer (every hidden layer), or one positive integer per hidden layer.
std::vector<long> read_width(const JsonAt& at, long depth) {
  if (at.value->is_number()) return {static_cast<long>(read_integer(at, 1, kMaxWidth))};
  if (!at.value->is_array() || at.value->empty()) {
    fail_expected(at, "a positive integer, or a list of one per hidden layer");
  }
  if (static_cast<long>(at.value->size()) != depth) {
    fail_at(at, "expected " + std::to_string(depth) +
                    " widths (one per hidden layer, as model.depth is " + std::to_string(depth) +
                    "), got " + std::to_string(at.value->size()) + ": " +
                    describe_value(*at.value));
  }
  std::vector<long> width;
  for (const JsonAt& item : read_list(at)) width.push_back(read_integer(item, 1, kMaxWidth));
  return width;
}

BiasInitSpec read_bias_init(const JsonAt& at) {
  BiasInitSpec b;
  if (at.value->is_number()) {  // shorthand for {"kind": "constant", "value": v}
    b.value = read_number(at);
    return b;
  }
  if (!at.value->is_object()) {
    fail_expected(at, "a number, or an object with \"kind\": \"constant\" or \"normal\"");
  }
  ObjectReader r(at);
  if (!r.has("kind")) fail_at(at, "missing \"kind\": expected \"constant\" or \"normal\"");
  // Only the chosen kind's keys are known, so {"kind": "constant", "std": 1} is an error.
  b.kind = r.choice("kind", b.kind, kBiasInitNames);
  if (b.kind == BiasInit::constant) {
    b.value = r.number("value", b.value);
  } else {
    b.mean = r.number("mean", b.mean);
    b.std = r.number("std", b.std, at_least(0));
  }
  r.finish();
  return b;
}

WeightInit read_weight_init(const JsonAt& at) {
  WeightInit w{};
  const bool known = parse_weight_init(kWeightInitNames[read_choice(at, kWeightInitNames)], w);
  GF_ASSERT(known);
  return w;
}

// One of the 10 activations, or "prelu" (returns false for prelu, leaving `out` alone).
bool read_fixed_activation(const JsonAt& at, Activation& out) {
  const std::size_t i = read_choice(at, activation_choices());
  if (i == kActivationCount) return false;
  const bool known = parse_activation(kActivationNames[i], out);
  GF_ASSERT(known);
  return true;
}

// A residual branch's scale: a positive number, "inv_sqrt_blocks" or "rezero".
void read_scale(const JsonAt& at, ResidualScale& scale, double& value) {
  const std::string expected = "a number > 0, \"inv_sqrt_blocks\" or \"rezero\"";
  if (at.value->is_number()) {
    value = read_number(at, above(0));
    scale = ResidualScale::constant;
    return;
  }
  if (!at.value->is_string()) fail_expected(at, expected);
  const std::string& given = at.value->get_ref<const std::string&>();
  const auto it = std::find(kScaleNames.begin(), kScaleNames.end(), given);
  if (it == kScaleNames.end()) {
    std::string message = "expected " + expected + ", got " + describe_value(*at.value);
    if (const auto guess = closest_name(given, kScaleNames))
      message += "; did you mean " + in_quotes(*guess) + "?";
    fail_at(at, message);
  }
  scale = static_cast<ResidualScale>(1 + (it - kScaleNames.begin()));
}

Json scale_to_json(ResidualScale scale, double value) {
  if (scale == ResidualScale::constant) return value;
  return std::string(kScaleNames[std::size_t(scale) - 1]);
}

// model.residual: {"every": k, "scale": s}, k dividing depth - 1 (layer 1 is the stem).
ResidualConfig read_residual(const JsonAt& at, long depth) {
  if (!at.value->is_object()) {
    fail_expected(at, "null (no residual connections) or an object {\"every\": k, \"scale\": s}");
  }
  ObjectReader r(at);
  ResidualConfig res;
  const std::optional<JsonAt> every = r.take("every");
  if (!every) {
    fail_at(at, "missing \"every\": the number of hidden layers in each residual block");
  }
  res.every = read_integer(*every, 1, kMaxDepth);
  if (auto scale = r.take("scale")) read_scale(*scale, res.scale, res.scale_value);
  r.finish();
  if (depth < 2) {
    fail_at(at,
            "residual blocks need model.depth >= 2 (hidden layer 1 is the stem, the blocks "
            "follow it), got model.depth " +
                std::to_string(depth));
  }
  const long rest = depth - 1;
  if (rest % res.every != 0) {
    fail_at(*every, "expected a divisor of model.depth - 1 = " + std::to_string(rest) +
                        " (hidden layer 1 is the stem; layers 2.." + std::to_string(depth) +
                        " form the blocks), got " + std::to_string(res.every) + ": " +
                        std::to_string(rest) + " = " + std::to_string(rest / res.every) + " x " +
                        std::to_string(res.every) + " + " + std::to_string(rest % res.every));
  }
  return res;
}

// Totals over a whole model.layers list, nested blocks included, checked as it is read.
struct LayerCounts {
  long dense = 0;
  long total = 0;
};

// `what` ends the expected-value message (", the block's branch", or "").
std::vector<LayerSpec> read_layer_list(const JsonAt& at, int nesting, LayerCounts& counts,
                                       std::string_view what);

std::string kind_list() { return list_names(kLayerKindNames); }

LayerSpec read_layer(const JsonAt& at, int nesting, LayerCounts& counts) {
  if (!at.value->is_object()) {
    fail_expected(at, "a layer: an object with \"kind\": one of " + kind_list());
  }
  ObjectReader r(at);
  if (!r.has("kind")) fail_at(at, "missing \"kind\": expected one of " + kind_list());
  LayerSpec s;
  // Only the chosen kind's keys are known: {"kind": "dense", "momentum": 0.1} is an error.
  s.kind = r.choice("kind", s.kind, kLayerKindNames);
  if (++counts.total > kMaxLayers) {
    fail_at(at, "more than " + std::to_string(kMaxLayers) +
                    " layers in model.layers (nested ones included)");
  }
  const auto required = [&](std::string_view key, const std::string& meaning) {
    std::optional<JsonAt> value = r.take(key);
    if (!value) {
      fail_at(at, "missing " + in_quotes(key) + ": a " + std::string(layer_kind_name(s.kind)) +
                      " layer needs " + meaning);
    }
    return *value;
  };
  switch (s.kind) {
    case LayerKind::dense:
      s.units = read_integer(required("units", "its number of units"), 1, kMaxWidth);
      if (++counts.dense > kMaxDepth) {
        fail_at(at, "more than " + std::to_string(kMaxDepth) +
                        " dense layers in model.layers (the limit of model.depth)");
      }
      break;
    case LayerKind::activation: {
      const JsonAt name = required("activation", "the activation's name");
      if (!read_fixed_activation(name, s.activation.kind)) {  // "activation": "prelu"
        s.kind = LayerKind::prelu;
        s.prelu_init = r.number("init", kDefaultPreluInit, kUnitHalfOpen);
      } else if (s.activation.kind == Activation::leaky_relu) {
        s.activation.param = r.number("slope", kDefaultLeakySlope, kUnitHalfOpen);
      } else if (s.activation.kind == Activation::elu) {
        s.activation.param = r.number("alpha", kDefaultEluAlpha, above(0));
      }
      break;
    }
    case LayerKind::prelu:
      s.prelu_init = r.number("init", kDefaultPreluInit, kUnitHalfOpen);
      break;
    case LayerKind::batch_norm:
      s.affine = r.boolean("affine", s.affine);
      s.momentum = r.number("momentum", s.momentum, kMomentumRange);
      break;
    case LayerKind::layer_norm:
      s.affine = r.boolean("affine", s.affine);
      break;
    case LayerKind::residual: {
      if (nesting >= kMaxResidualNesting) {
        fail_at(at, "residual blocks nested more than " + std::to_string(kMaxResidualNesting) +
                        " deep");
      }
      if (auto scale = r.take("scale")) read_scale(*scale, s.scale, s.scale_value);
      const JsonAt body = required("layers", "its branch: a non-empty list of layers");
      s.body = read_layer_list(body, nesting + 1, counts, ", the block's branch");
      break;
    }
    case LayerKind::conv2d:
      s.channels = read_integer(required("channels", "its number of output channels"), 1,
                                kMaxWidth);
      s.kernel = r.integer("kernel", s.kernel, 1, kMaxWidth);
      if (auto stride = r.take("stride")) s.stride = read_stride(*stride, "conv2d");
      if (auto padding = r.take("padding"))
        s.padding = static_cast<Padding>(read_choice(*padding, kPaddingNames));
      break;
    case LayerKind::max_pool:
    case LayerKind::avg_pool:
      s.kernel = r.integer("kernel", kDefaultPool, 1, kMaxWidth);
      s.stride = s.kernel;  // non-overlapping windows by default
      if (auto stride = r.take("stride")) s.stride = read_stride(*stride, layer_kind_name(s.kind));
      break;
    case LayerKind::global_avg_pool:
    case LayerKind::flatten:
      break;
  }
  r.finish();
  return s;
}

std::vector<LayerSpec> read_layer_list(const JsonAt& at, int nesting, LayerCounts& counts,
                                       std::string_view what) {
  if (!at.value->is_array() || at.value->empty()) {
    fail_expected(at, "a non-empty list of layers (objects with a \"kind\")" + std::string(what));
  }
  std::vector<LayerSpec> layers;
  for (const JsonAt& item : read_list(at)) layers.push_back(read_layer(item, nesting, counts));
  return layers;
}

// The shorthand keys after depth and width: activation (or prelu), norm, residual.
void parse_shorthand(ObjectReader& r, ModelConfig& m) {
  if (auto conv = r.take("conv"); conv && !conv->value->is_null()) m.conv = read_conv(*conv);
  if (auto depth = r.take("depth")) {
    // Depth 0 leaves only the read-out, which makes sense behind a conv stem only.
    if (!m.conv && depth->value->is_number() && depth->value->get<double>() == 0)
      fail_at(*depth,
              "expected an integer >= 1, got 0 (model.depth 0, no hidden dense layer, is "
              "allowed only with model.conv in front of the read-out)");
    m.depth = long(read_integer(*depth, m.conv ? 0 : 1, kMaxDepth));
  }
  if (auto width = r.take("width")) m.width = read_width(*width, m.depth);
  if (auto a = r.take("activation")) m.prelu = !read_fixed_activation(*a, m.activation);
  m.leaky_slope = r.number("leaky_slope", m.leaky_slope, kUnitHalfOpen);
  m.elu_alpha = r.number("elu_alpha", m.elu_alpha, above(0));
  if (auto init = r.take("prelu_init")) {
    if (!m.prelu) {
      fail_at(*init,
              "prelu_init is the initial slope of model.activation \"prelu\", but the "
              "activation is " +
                  in_quotes(activation_name(m.activation)) +
                  "; leave prelu_init out, or set the activation to \"prelu\"");
    }
    m.prelu_init = read_number(*init, kUnitHalfOpen);
  }

  if (auto norm = r.take("norm")) m.norm = static_cast<Norm>(read_choice(*norm, kNormNames));
  const auto needs_norm = [&](const JsonAt& at, std::string_view key, std::string_view norms) {
    fail_at(at, std::string(key) + " applies to model.norm " + std::string(norms) +
                    ", but model.norm is " + in_quotes(norm_name(m.norm)) + "; leave " +
                    std::string(key) + " out, or set model.norm");
  };
  if (auto affine = r.take("norm_affine")) {
    if (m.norm == Norm::none) needs_norm(*affine, "norm_affine", "\"batch\" or \"layer\"");
    m.norm_affine = read_bool(*affine);
  }
  if (auto momentum = r.take("norm_momentum")) {
    // Layer norm uses each example's own statistics, so it keeps no running ones.
    if (m.norm != Norm::batch)
      needs_norm(*momentum, "norm_momentum",
                 "\"batch\" only (the running statistics; layer norm keeps none)");
    m.norm_momentum = read_number(*momentum, kMomentumRange);
  }
  if (auto res = r.take("residual"); res && !res->value->is_null()) {
    // Blocks of the dense shorthand behind a conv stem would look like a residual conv net
    // and not be one; model.layers writes residual blocks of conv layers explicitly.
    if (m.conv)
      fail_at(*res,
              "model.residual cannot be given with model.conv (the shorthand's residual "
              "blocks are dense; write residual conv blocks as model.layers entries of kind "
              "\"residual\"); leave one of them out");
    m.residual = read_residual(*res, m.depth);
  }
}

}  // namespace

ModelConfig parse_model(ObjectReader r) {
  ModelConfig m;
  std::optional<JsonAt> layers = r.take("layers");
  if (layers && layers->value->is_null()) layers.reset();  // null: the shorthand, as absent
  if (layers) {
    for (std::string_view key : kShorthandKeys) {
      const std::optional<JsonAt> given = r.take(key);
      if (!given || (key == "residual" && given->value->is_null())) continue;
      fail_at(*given, "model.layers gives the whole stack, so " + in_quotes(key) +
                          " cannot be given with it (the shorthand keys " +
                          list_names(kShorthandKeys) +
                          " expand into a layer list; the init keys still apply)");
    }
    LayerCounts counts;
    m.layers = read_layer_list(*layers, 0, counts, "");
  } else {
    parse_shorthand(r, m);
  }
  if (auto init = r.take("init")) m.init = read_weight_init(*init);
  m.init_std = r.number("init_std", m.init_std, at_least(0));
  m.init_limit = r.number("init_limit", m.init_limit, at_least(0));
  m.init_gain = r.number("init_gain", m.init_gain, above(0));
  if (auto bias = r.take("bias_init")) m.bias_init = read_bias_init(*bias);
  if (auto init_from = r.take("init_from")) m.init_from = read_path(*init_from);
  r.finish();
  return m;
}

Json model_to_json(const ModelConfig& m) {
  Json model = Json::object();
  if (m.layers.empty()) {
    model["depth"] = m.depth;
    model["width"] = m.width.size() == 1 ? Json(m.width[0]) : Json(m.width);
    model["activation"] =
        m.prelu ? std::string(kPrelu) : std::string(activation_name(m.activation));
    model["leaky_slope"] = m.leaky_slope;
    model["elu_alpha"] = m.elu_alpha;
    // Only the keys of a feature that is on: the run id hashes this document, and emitting
    // "norm": "none" would rename every existing run.
    if (m.prelu) model["prelu_init"] = m.prelu_init;
    if (m.norm != Norm::none) {
      model["norm"] = std::string(norm_name(m.norm));
      model["norm_affine"] = m.norm_affine;
      if (m.norm == Norm::batch) model["norm_momentum"] = m.norm_momentum;
    }
    if (m.residual) {
      model["residual"] = {{"every", m.residual->every},
                           {"scale", scale_to_json(m.residual->scale, m.residual->scale_value)}};
    }
    if (m.conv) model["conv"] = conv_to_json(*m.conv);
  } else {
    model["layers"] = layers_to_json(m.layers);
  }
  Json bias = {{"kind", std::string(kBiasInitNames[std::size_t(m.bias_init.kind)])}};
  if (m.bias_init.kind == BiasInit::constant) {
    bias["value"] = m.bias_init.value;
  } else {
    bias["mean"] = m.bias_init.mean;
    bias["std"] = m.bias_init.std;
  }
  model["init"] = std::string(weight_init_name(m.init));
  model["init_std"] = m.init_std;
  model["init_limit"] = m.init_limit;
  model["init_gain"] = m.init_gain;
  model["bias_init"] = std::move(bias);
  model["init_from"] = m.init_from;
  return model;
}

namespace {

// model_layers, and for each top-level layer the JSON path of the key that made it.
std::vector<LayerSpec> expand(const ModelConfig& m, std::vector<std::string>& paths) {
  std::vector<LayerSpec> layers;
  if (!m.layers.empty()) {
    for (std::size_t i = 0; i < m.layers.size(); ++i)
      paths.push_back("/model/layers/" + std::to_string(i));
    return m.layers;
  }
  // Each helper appends to `out` and, when it is the top-level list, the paths.
  const auto add = [&](std::vector<LayerSpec>& out, LayerSpec s, std::string path) {
    if (&out == &layers) paths.push_back(std::move(path));
    out.push_back(std::move(s));
  };
  const auto norm = [&](std::vector<LayerSpec>& out) {
    if (m.norm == Norm::none) return;
    LayerSpec n;
    n.kind = m.norm == Norm::batch ? LayerKind::batch_norm : LayerKind::layer_norm;
    n.affine = m.norm_affine;
    n.momentum = m.norm_momentum;
    add(out, n, "/model/norm");
  };
  const auto dense = [&](long l, std::vector<LayerSpec>& out) {  // l in [0, depth)
    LayerSpec s;
    s.kind = LayerKind::dense;
    s.units = m.hidden_width(l);
    add(out, s, m.width.size() == 1 ? "/model/width" : "/model/width/" + std::to_string(l));
    norm(out);
  };
  const auto act = [&](std::vector<LayerSpec>& out) {
    LayerSpec s;
    if (m.prelu) {
      s.kind = LayerKind::prelu;
      s.prelu_init = m.prelu_init;
    } else {
      s.kind = LayerKind::activation;
      s.activation = m.activation_spec();
    }
    add(out, s, "/model/activation");
  };
  if (m.conv) {  // the conv stem, then the dense stack below reads its flattened output
    const ConvConfig& c = *m.conv;
    for (std::size_t i = 0; i < c.channels.size(); ++i) {
      add(layers, conv2d_layer(c.channels[i], c.kernel, c.padding, c.stride),
          "/model/conv/channels/" + std::to_string(i));
      norm(layers);
      act(layers);
      if (c.pool == ConvPool::none || (long(i) + 1) % c.pool_every != 0) continue;
      add(layers,
          pool_layer(c.pool == ConvPool::max ? LayerKind::max_pool : LayerKind::avg_pool,
                     c.pool_size),
          "/model/conv/pool");
    }
    add(layers, layer_of(c.global_pool ? LayerKind::global_avg_pool : LayerKind::flatten),
        "/model/conv");
  }
  if (!m.residual) {
    for (long l = 0; l < m.depth; ++l) {
      dense(l, layers);
      act(layers);
    }
    return layers;
  }
  const long every = m.residual->every;
  GF_ASSERT(!m.conv && m.depth >= 2 && every >= 1 && (m.depth - 1) % every == 0);
  dense(0, layers);  // the stem
  for (long first = 1; first < m.depth; first += every) {
    LayerSpec block;
    block.kind = LayerKind::residual;
    block.scale = m.residual->scale;
    block.scale_value = m.residual->scale_value;
    for (long l = first; l < first + every; ++l) {
      act(block.body);
      dense(l, block.body);
    }
    add(layers, std::move(block), "/model/residual");
  }
  act(layers);
  return layers;
}

}  // namespace

std::vector<LayerSpec> model_layers(const ModelConfig& m) {
  std::vector<std::string> paths;
  return expand(m, paths);
}

std::vector<std::string> model_layer_paths(const ModelConfig& m) {
  std::vector<std::string> paths;
  expand(m, paths);
  return paths;
}

Json layers_to_json(const std::vector<LayerSpec>& layers) {
  Json list = Json::array();
  for (const LayerSpec& s : layers) {
    Json j = {{"kind", std::string(layer_kind_name(s.kind))}};
    switch (s.kind) {
      case LayerKind::dense:
        j["units"] = s.units;
        break;
      case LayerKind::activation:
        j["activation"] = std::string(activation_name(s.activation.kind));
        if (s.activation.kind == Activation::leaky_relu) j["slope"] = s.activation.param;
        if (s.activation.kind == Activation::elu) j["alpha"] = s.activation.param;
        break;
      case LayerKind::prelu:
        j["init"] = s.prelu_init;
        break;
      case LayerKind::batch_norm:
        j["affine"] = s.affine;
        j["momentum"] = s.momentum;
        break;
      case LayerKind::layer_norm:
        j["affine"] = s.affine;
        break;
      case LayerKind::residual:
        j["scale"] = scale_to_json(s.scale, s.scale_value);
        j["layers"] = layers_to_json(s.body);
        break;
      case LayerKind::conv2d:
        j["channels"] = s.channels;
        j["kernel"] = s.kernel;
        j["stride"] = s.stride;
        j["padding"] = std::string(padding_name(s.padding));
        break;
      case LayerKind::max_pool:
      case LayerKind::avg_pool:
        j["kernel"] = s.kernel;
        j["stride"] = s.stride;
        break;
      case LayerKind::global_avg_pool:
      case LayerKind::flatten:
        break;
    }
    list.push_back(std::move(j));
  }
  return list;
}

std::string_view norm_name(Norm n) { return kNormNames[std::size_t(n)]; }

}  // namespace gradflow
