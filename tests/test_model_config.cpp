// The model's layer stack from the config (issue 13): the shorthand keys' expansion into
// LayerSpecs, model.layers, one message and JSON path per bad input, the round trip through
// to_json, config.json's record of the layers, --set and sweeps, and unchanged run ids.
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/errors.hpp"
#include "config/config.hpp"
#include "config/model_config.hpp"
#include "config/network_layout.hpp"
#include "config/sweep.hpp"
#include "io/writers.hpp"
#include "config_support.hpp"

using namespace gradflow;
using namespace gradflow::test;
using Catch::Matchers::Contains;

namespace {

Config parse(const std::string& json) { return parse_config(Json::parse(json), "m.json"); }

std::vector<LayerSpec> layers_of(const std::string& model_json) {
  return model_layers(parse(R"({"model": )" + model_json + "}").model);
}

// The operations in order, residual blocks opened (their skips dropped).
std::vector<LayerSpec> operations(const std::vector<LayerSpec>& layers) {
  std::vector<LayerSpec> out;
  for (const LayerSpec& s : layers) {
    if (s.kind != LayerKind::residual) {
      out.push_back(s);
      continue;
    }
    for (const LayerSpec& inner : operations(s.body)) out.push_back(inner);
  }
  return out;
}

// Every field, recursively (LayerSpec has no operator==: ActivationSpec has none).
bool same_layers(const std::vector<LayerSpec>& a, const std::vector<LayerSpec>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const LayerSpec &x = a[i], &y = b[i];
    if (x.kind != y.kind || x.units != y.units || x.activation.kind != y.activation.kind ||
        x.activation.param != y.activation.param || x.prelu_init != y.prelu_init ||
        x.affine != y.affine || x.momentum != y.momentum || x.scale != y.scale ||
        x.scale_value != y.scale_value || !same_layers(x.body, y.body))
      return false;
  }
  return true;
}

// A list of n dense layers of 2 units, as JSON text.
std::string dense_list(int n) {
  std::string list = "[";
  for (int i = 0; i < n; ++i) list += std::string(i ? "," : "") + R"({"kind":"dense","units":2})";
  return list + "]";
}

}  // namespace

TEST_CASE("the shorthand expands into the plain MLP, norm and prelu layers", "[model_config]") {
  struct Case {
    const char* model;
    const char* layers;
  };
  const Case c = GENERATE(values<Case>({
      // Today's MLP: dense, act per hidden layer (the output layer is the network's).
      {R"({})", "dense:64 relu dense:64 relu dense:64 relu dense:64 relu"},
      {R"({"depth": 3, "width": [8, 16, 32], "activation": "tanh"})",
       "dense:8 tanh dense:16 tanh dense:32 tanh"},
      {R"({"depth": 2, "width": 5, "activation": "leaky_relu", "leaky_slope": 0.2})",
       "dense:5 leaky_relu(0.2) dense:5 leaky_relu(0.2)"},
      {R"({"depth": 1, "width": 3, "activation": "elu", "elu_alpha": 0.5})", "dense:3 elu(0.5)"},
      {R"({"depth": 2, "width": 4, "norm": "batch"})", "dense:4 bn(0.1) relu dense:4 bn(0.1) relu"},
      {R"({"depth": 2, "width": 4, "norm": "batch", "norm_affine": false, "norm_momentum": 0.5})",
       "dense:4 bn(plain,0.5) relu dense:4 bn(plain,0.5) relu"},
      {R"({"depth": 2, "width": 4, "norm": "layer"})", "dense:4 ln relu dense:4 ln relu"},
      {R"({"depth": 2, "width": 4, "norm": "layer", "norm_affine": false})",
       "dense:4 ln(plain) relu dense:4 ln(plain) relu"},
      {R"({"depth": 2, "width": 4, "activation": "prelu"})",
       "dense:4 prelu(0.25) dense:4 prelu(0.25)"},
      {R"({"depth": 2, "width": 4, "activation": "prelu", "prelu_init": 0, "norm": "layer"})",
       "dense:4 ln prelu(0) dense:4 ln prelu(0)"},
      {R"({"depth": 2, "width": 4, "residual": null})", "dense:4 relu dense:4 relu"},
  }));
  INFO(c.model);
  CHECK(describe(layers_of(c.model)) == c.layers);
}

TEST_CASE("residual shorthand: a stem, pre-activation blocks of `every` layers, a final act",
          "[model_config]") {
  struct Case {
    const char* model;
    const char* layers;
  };
  const Case c = GENERATE(values<Case>({
      {R"({"depth": 3, "width": 4, "residual": {"every": 1}})",
       "dense:4 res[1]{relu dense:4} res[1]{relu dense:4} relu"},
      {R"({"depth": 5, "width": [2, 3, 4, 5, 6], "residual": {"every": 2, "scale": 0.5}})",
       "dense:2 res[0.5]{relu dense:3 relu dense:4} res[0.5]{relu dense:5 relu dense:6} relu"},
      {R"({"depth": 4, "width": 4, "norm": "batch", "residual": {"every": 3, "scale": "rezero"}})",
       "dense:4 bn(0.1) "
       "res[rezero]{relu dense:4 bn(0.1) relu dense:4 bn(0.1) relu dense:4 bn(0.1)} relu"},
      {R"({"depth": 3, "width": 4, "activation": "prelu", "prelu_init": 0.1, "norm": "layer",
           "residual": {"every": 1, "scale": "inv_sqrt_blocks"}})",
       "dense:4 ln res[inv_sqrt_blocks]{prelu(0.1) dense:4 ln} "
       "res[inv_sqrt_blocks]{prelu(0.1) dense:4 ln} prelu(0.1)"},
      {R"({"depth": 2, "width": 4, "activation": "sigmoid", "residual": {"every": 1}})",
       "dense:4 res[1]{sigmoid dense:4} sigmoid"},
  }));
  INFO(c.model);
  CHECK(describe(layers_of(c.model)) == c.layers);
}

TEST_CASE("with residual blocks the operations are the plain MLP's, in the same order",
          "[model_config]") {
  const long depth = GENERATE(2, 7, 13, 50);
  const std::string norm = GENERATE("none", "batch", "layer");
  const std::string activation = GENERATE("relu", "prelu", "tanh");
  const std::string plain = R"({"depth": )" + std::to_string(depth) + R"(, "width": 8, "norm": ")" +
                            norm + R"(", "activation": ")" + activation + R"(")";
  const std::vector<LayerSpec> mlp = layers_of(plain + "}");
  for (long every = 1; every < depth; ++every) {
    if ((depth - 1) % every != 0) continue;
    INFO("depth " << depth << ", every " << every << ", norm " << norm << ", " << activation);
    const std::vector<LayerSpec> res =
        layers_of(plain + R"(, "residual": {"every": )" + std::to_string(every) + "}}");
    REQUIRE(res.size() == 2 + (norm != "none") + static_cast<std::size_t>((depth - 1) / every));
    long blocks = 0;
    for (const LayerSpec& s : res) blocks += s.kind == LayerKind::residual;
    CHECK(blocks == (depth - 1) / every);
    CHECK(same_layers(operations(res), mlp));
  }
}

TEST_CASE("model.layers is returned as written, with each kind's defaults", "[model_config]") {
  const std::vector<LayerSpec> layers = layers_of(R"({"layers": [
      {"kind": "dense", "units": 32},
      {"kind": "layer_norm"},
      {"kind": "activation", "activation": "leaky_relu"},
      {"kind": "activation", "activation": "elu", "alpha": 2},
      {"kind": "activation", "activation": "prelu"},
      {"kind": "prelu", "init": 0.5},
      {"kind": "residual", "layers": [
          {"kind": "batch_norm"}, {"kind": "activation", "activation": "gelu"},
          {"kind": "dense", "units": 16},
          {"kind": "residual", "scale": "rezero", "layers": [{"kind": "dense", "units": 16}]}]},
      {"kind": "batch_norm", "affine": false, "momentum": 1},
      {"kind": "activation", "activation": "leaky_relu", "slope": 0}]})");
  CHECK(describe(layers) ==
        "dense:32 ln leaky_relu(0.01) elu(2) prelu(0.25) prelu(0.5) "
        "res[1]{bn(0.1) gelu dense:16 res[rezero]{dense:16}} bn(plain,1) leaky_relu(0)");
  // The init keys still apply with a list; the shorthand ones stay at their defaults.
  const Config c = parse(R"({"model": {"layers": [{"kind": "dense", "units": 3}],
                                       "init": "xavier_normal", "init_gain": 2, "bias_init": 0.5}})");
  CHECK(c.model.init == WeightInit::xavier_normal);
  CHECK(c.model.init_gain == 2);
  CHECK(c.model.bias_init.value == 0.5);
  CHECK(c.model.norm == Norm::none);
  CHECK_FALSE(c.model.residual.has_value());
  // null is absent: the shorthand applies.
  CHECK(describe(layers_of(R"({"layers": null, "depth": 1, "width": 2})")) == "dense:2 relu");
}

namespace {
struct BadModel {
  const char* model;   // the "model" object
  const char* path;    // the exact JSON pointer the error must name
  const char* phrase;  // must appear in the message
  const char* phrase2;
};
}  // namespace

TEST_CASE("each bad model input names its JSON path and what was expected", "[model_config]") {
  const BadModel bad = GENERATE(values<BadModel>({
      // residual
      {R"({"depth": 50, "residual": {"every": 4}})", "/model/residual/every",
       "expected a divisor of model.depth - 1 = 49", "got 4: 49 = 12 x 4 + 1"},
      {R"({"depth": 5, "residual": {"every": 5}})", "/model/residual/every",
       "expected a divisor of model.depth - 1 = 4", "got 5: 4 = 0 x 5 + 4"},
      {R"({"depth": 1, "residual": {"every": 1}})", "/model/residual",
       "residual blocks need model.depth >= 2", "got model.depth 1"},
      {R"({"residual": {"scale": 1}})", "/model/residual", R"(missing "every")", ""},
      {R"({"residual": {"every": 0}})", "/model/residual/every", "expected an integer >= 1, got 0",
       ""},
      {R"({"residual": {"every": 1.5}})", "/model/residual/every", "got 1.5", ""},
      {R"({"residual": {"every": 1, "scale": 0}})", "/model/residual/scale",
       "expected a number > 0, got 0", ""},
      {R"({"residual": {"every": 1, "scale": -1}})", "/model/residual/scale",
       "expected a number > 0, got -1", ""},
      {R"({"residual": {"every": 1, "scale": "rezro"}})", "/model/residual/scale",
       R"(expected a number > 0, "inv_sqrt_blocks" or "rezero", got "rezro")",
       R"(did you mean "rezero"?)"},
      {R"({"residual": {"every": 1, "scale": true}})", "/model/residual/scale", "got true", ""},
      {R"({"residual": {"every": 1, "gate": 1}})", "/model/residual", R"(unknown key "gate")",
       "valid keys here: every, scale"},
      {R"({"residual": 2})", "/model/residual", "expected null (no residual connections)", "got 2"},
      // norm
      {R"({"norm": "group"})", "/model/norm", "expected one of none, batch, layer",
       R"(got "group")"},
      {R"({"norm_affine": false})", "/model/norm_affine",
       R"(norm_affine applies to model.norm "batch" or "layer", but model.norm is "none")", ""},
      {R"({"norm": "none", "norm_momentum": 0.1})", "/model/norm_momentum",
       R"(applies to model.norm "batch" only)", R"(model.norm is "none")"},
      {R"({"norm": "layer", "norm_momentum": 0.1})", "/model/norm_momentum",
       "layer norm keeps none", R"(model.norm is "layer")"},
      {R"({"norm": "batch", "norm_momentum": 0})", "/model/norm_momentum",
       "expected a number > 0, got 0", ""},
      {R"({"norm": "batch", "norm_momentum": 1.5})", "/model/norm_momentum",
       "expected a number <= 1, got 1.5", ""},
      {R"({"norm": "batch", "norm_affine": "yes"})", "/model/norm_affine",
       R"(expected true or false, got "yes")", ""},
      // prelu
      {R"({"prelu_init": 0.3})", "/model/prelu_init",
       R"(prelu_init is the initial slope of model.activation "prelu", but the activation is "relu")",
       ""},
      {R"({"activation": "tanh", "prelu_init": 0.25})", "/model/prelu_init",
       R"(the activation is "tanh")", ""},
      {R"({"activation": "prelu", "prelu_init": 1})", "/model/prelu_init",
       "expected a number < 1, got 1", ""},
      {R"({"activation": "prelu", "prelu_init": -0.1})", "/model/prelu_init",
       "expected a number >= 0, got -0.1", ""},
      {R"({"activation": "prlu"})", "/model/activation", "softplus, prelu",
       R"(did you mean "prelu"?)"},
      // model.layers: the list
      {R"({"layers": []})", "/model/layers", "expected a non-empty list of layers", "got []"},
      {R"({"layers": {"kind": "dense"}})", "/model/layers", "expected a non-empty list of layers",
       ""},
      {R"({"layers": [3]})", "/model/layers/0", R"(expected a layer: an object with "kind")",
       "got 3"},
      {R"({"layers": [{"units": 3}]})", "/model/layers/0", R"(missing "kind")",
       "dense, activation, prelu, batch_norm, layer_norm, residual"},
      {R"({"layers": [{"kind": "dense", "units": 3}, {"kind": "conv"}]})", "/model/layers/1/kind",
       "expected one of dense, activation, prelu, batch_norm, layer_norm, residual",
       R"(got "conv")"},
      {R"({"layers": [{"kind": "dnse", "units": 3}]})", "/model/layers/0/kind",
       R"(did you mean "dense"?)", ""},
      {R"({"layers": [{"kind": 1}]})", "/model/layers/0/kind", "got 1", ""},
      // each kind's keys
      {R"({"layers": [{"kind": "dense"}]})", "/model/layers/0", R"(missing "units")", ""},
      {R"({"layers": [{"kind": "dense", "units": 0}]})", "/model/layers/0/units",
       "expected an integer >= 1, got 0", ""},
      {R"({"layers": [{"kind": "dense", "units": 65537}]})", "/model/layers/0/units",
       "expected an integer <= 65536, got 65537", ""},
      {R"({"layers": [{"kind": "dense", "units": "8"}]})", "/model/layers/0/units",
       R"(expected an integer in [1, 65536], got "8")", ""},
      {R"({"layers": [{"kind": "dense", "units": 8, "width": 8}]})", "/model/layers/0",
       R"(unknown key "width")", "valid keys here: kind, units"},
      {R"({"layers": [{"kind": "activation"}]})", "/model/layers/0", R"(missing "activation")", ""},
      {R"({"layers": [{"kind": "activation", "activation": "rleu"}]})",
       "/model/layers/0/activation", R"(did you mean "relu"?)", ""},
      {R"({"layers": [{"kind": "activation", "activation": "relu", "slope": 0.1}]})",
       "/model/layers/0", R"(unknown key "slope")", "valid keys here: kind, activation"},
      {R"({"layers": [{"kind": "activation", "activation": "leaky_relu", "slope": 1}]})",
       "/model/layers/0/slope", "expected a number < 1, got 1", ""},
      {R"({"layers": [{"kind": "activation", "activation": "elu", "alpha": 0}]})",
       "/model/layers/0/alpha", "expected a number > 0, got 0", ""},
      {R"({"layers": [{"kind": "activation", "activation": "prelu", "init": 1}]})",
       "/model/layers/0/init", "expected a number < 1, got 1", ""},
      {R"({"layers": [{"kind": "prelu", "init": -1}]})", "/model/layers/0/init",
       "expected a number >= 0, got -1", ""},
      {R"({"layers": [{"kind": "batch_norm", "momentum": 0}]})", "/model/layers/0/momentum",
       "expected a number > 0, got 0", ""},
      {R"({"layers": [{"kind": "batch_norm", "affine": 1}]})", "/model/layers/0/affine",
       "expected true or false, got 1", ""},
      {R"({"layers": [{"kind": "layer_norm", "momentum": 0.1}]})", "/model/layers/0",
       R"(unknown key "momentum")", "valid keys here: kind, affine"},
      {R"({"layers": [{"kind": "residual"}]})", "/model/layers/0", R"(missing "layers")",
       "its branch"},
      {R"({"layers": [{"kind": "residual", "layers": []}]})", "/model/layers/0/layers",
       "expected a non-empty list of layers", "the block's branch, got []"},
      {R"({"layers": [{"kind": "residual", "scale": "half", "layers": [{"kind": "prelu"}]}]})",
       "/model/layers/0/scale", R"(got "half")", ""},
      {R"({"layers": [{"kind": "residual", "layers": [{"kind": "dense", "units": -2}]}]})",
       "/model/layers/0/layers/0/units", "expected an integer >= 1, got -2", ""},
      {R"({"layers": [{"kind": "residual", "layers": [{"kind": "residual", "layers": [
           {"kind": "residual", "layers": [{"kind": "residual", "layers": [
           {"kind": "residual", "layers": [{"kind": "prelu"}]}]}]}]}]}]})",
       "/model/layers/0/layers/0/layers/0/layers/0/layers/0", "nested more than 4 deep", ""},
      // model.layers with the shorthand keys it replaces
      {R"({"layers": [{"kind": "prelu"}], "depth": 4})", "/model/depth",
       R"(model.layers gives the whole stack, so "depth" cannot be given with it)",
       "the init keys still apply"},
      {R"({"layers": [{"kind": "prelu"}], "width": 4})", "/model/width", R"(so "width" cannot)",
       ""},
      {R"({"layers": [{"kind": "prelu"}], "activation": "relu"})", "/model/activation",
       R"(so "activation" cannot)", ""},
      {R"({"layers": [{"kind": "prelu"}], "leaky_slope": 0.1})", "/model/leaky_slope",
       R"(so "leaky_slope" cannot)", ""},
      {R"({"layers": [{"kind": "prelu"}], "elu_alpha": 1})", "/model/elu_alpha",
       R"(so "elu_alpha" cannot)", ""},
      {R"({"layers": [{"kind": "prelu"}], "prelu_init": 0.2})", "/model/prelu_init",
       R"(so "prelu_init" cannot)", ""},
      {R"({"layers": [{"kind": "prelu"}], "norm": "none"})", "/model/norm", R"(so "norm" cannot)",
       ""},
      {R"({"layers": [{"kind": "prelu"}], "norm_affine": true})", "/model/norm_affine",
       R"(so "norm_affine" cannot)", ""},
      {R"({"layers": [{"kind": "prelu"}], "norm_momentum": 0.1})", "/model/norm_momentum",
       R"(so "norm_momentum" cannot)", ""},
      {R"({"layers": [{"kind": "prelu"}], "residual": {"every": 1}})", "/model/residual",
       R"(so "residual" cannot)", ""},
      {R"({"layers": [{"kind": "prelu"}], "depht": 4})", "/model", R"(unknown key "depht")",
       R"(did you mean "depth"?)"},
  }));
  INFO(bad.model);
  const InputError e = input_error([&] { parse(R"({"model": )" + std::string(bad.model) + "}"); });
  INFO(e.what());
  CHECK(e.where() == "m.json");
  CHECK(e.path() == bad.path);
  CHECK_THAT(e.message(), Contains(bad.phrase));
  CHECK_THAT(e.message(), Contains(bad.phrase2));
}

TEST_CASE("model.layers is capped: 1000 dense layers, 4000 entries", "[model_config]") {
  CHECK(layers_of(R"({"layers": )" + dense_list(1000) + "}").size() == 1000);
  const InputError dense =
      input_error([] { layers_of(R"({"layers": )" + dense_list(1001) + "}"); });
  CHECK(dense.path() == "/model/layers/1000");
  CHECK_THAT(dense.message(), Contains("more than 1000 dense layers"));
  std::string list = "[";
  for (int i = 0; i < 4001; ++i) list += std::string(i ? "," : "") + R"({"kind":"prelu"})";
  const InputError total = input_error([&] { layers_of(R"({"layers": )" + list + "]}"); });
  CHECK(total.path() == "/model/layers/4000");
  CHECK_THAT(total.message(), Contains("more than 4000 layers"));
  // The largest shorthand stack fits: depth 1000, norm, blocks of one layer.
  const std::vector<LayerSpec> big =
      layers_of(R"({"depth": 1000, "width": 2, "norm": "batch", "residual": {"every": 1}})");
  CHECK(big.size() == 1002);  // stem dense and norm, 999 blocks, act
  const Config again = parse(R"({"model": {"layers": )" + layers_to_json(big).dump() + "}}");
  CHECK(same_layers(again.model.layers, big));
}

TEST_CASE("to_json round-trips the new keys and model.layers to the same layers",
          "[model_config]") {
  const char* models[] = {
      R"({"depth": 3, "width": [4, 5, 6], "activation": "prelu", "prelu_init": 0.125})",
      R"({"norm": "batch", "norm_affine": false, "norm_momentum": 0.3, "init": "xavier_normal"})",
      R"({"norm": "layer", "depth": 7, "residual": {"every": 3, "scale": 0.7}})",
      R"({"depth": 3, "residual": {"every": 2, "scale": "rezero"}})",
      R"({"depth": 3, "residual": {"every": 1, "scale": "inv_sqrt_blocks"}})",
      R"({"layers": [{"kind": "dense", "units": 7}, {"kind": "batch_norm", "momentum": 0.2},
                     {"kind": "residual", "scale": "inv_sqrt_blocks", "layers": [
                         {"kind": "layer_norm", "affine": false},
                         {"kind": "activation", "activation": "prelu", "init": 0.5},
                         {"kind": "dense", "units": 9},
                         {"kind": "residual", "scale": 2, "layers": [
                             {"kind": "activation", "activation": "elu", "alpha": 3}]}]},
                     {"kind": "activation", "activation": "leaky_relu", "slope": 0.3}],
          "bias_init": {"kind": "normal", "std": 0.1}, "init_from": "p"})",
  };
  for (const char* model : models) {
    INFO(model);
    const Config c = parse(R"({"model": )" + std::string(model) + "}");
    const Json j = to_json(c);
    const Config again = parse_config(j, "m.json");
    CHECK(to_json(again) == j);
    CHECK(same_layers(model_layers(again.model), model_layers(c.model)));
    CHECK(same_layers(again.model.layers, c.model.layers));
    CHECK(again.model.prelu == c.model.prelu);
    CHECK(again.model.prelu_init == c.model.prelu_init);
    CHECK(again.model.norm == c.model.norm);
    CHECK(again.model.norm_affine == c.model.norm_affine);
    CHECK(again.model.norm_momentum == c.model.norm_momentum);
    CHECK(again.model.residual.has_value() == c.model.residual.has_value());
  }
  // The canonical form of each feature: its keys, with defaults filled in.
  const Json m = to_json(parse(R"({"model": {"norm": "batch", "depth": 3,
                                             "residual": {"every": 1}}})"))["model"];
  CHECK(m["norm_affine"] == true);
  CHECK(m["norm_momentum"] == 0.1);
  CHECK(m["residual"] == Json::parse(R"({"every": 1, "scale": 1.0})"));
  const Json layers = to_json(parse(R"({"model": {"layers": [{"kind": "layer_norm"}]}})"))["model"];
  CHECK(layers["layers"] == Json::parse(R"([{"kind": "layer_norm", "affine": true}])"));
  CHECK_FALSE(layers.contains("depth"));
  CHECK_FALSE(layers.contains("activation"));
  CHECK(layers["init"] == "he_normal");
}

TEST_CASE("a plain config's document and run ids are those of the build before issue 13",
          "[model_config]") {
  // The model keys in today's order, and nothing else.
  const Json model = to_json(parse("{}"))["model"];
  std::vector<std::string> keys;
  for (const auto& [key, value] : model.items()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"depth", "width", "activation", "leaky_slope", "elu_alpha",
                                         "init", "init_std", "init_limit", "init_gain", "bias_init",
                                         "init_from"});
  // Ids computed with `gradflow plan` on main at bca723e (before the layer keys existed).
  CHECK(run_id(parse("{}")) == "a3c48314156b");
  const std::string configs = std::string(GRADFLOW_SOURCE_DIR) + "/configs/";
  CHECK(run_id(load_config(configs + "quickstart.json")) == "bed500f5ebe6");
  const SweepPlan bias = expand_sweep(read_json_file(configs + "dying_relu_bias.json"),
                                      configs + "dying_relu_bias.json");
  std::vector<std::string> ids;
  for (const RunSpec& r : bias.runs) ids.push_back(r.id);
  CHECK(ids == std::vector<std::string>{"374f9211efa1", "b14eb2c496c6", "8643d466648e",
                                        "47a5da61254f", "f0babe70ed7a"});
  const SweepPlan leaky = expand_sweep(read_json_file(configs + "leaky_relu_fix.json"),
                                       configs + "leaky_relu_fix.json");
  ids.clear();
  for (const RunSpec& r : leaky.runs) ids.push_back(r.id);
  CHECK(ids ==
        std::vector<std::string>{"87c3bbd36e14", "03705a23d876", "8c6d2b9e7448", "5fc3d6f437cf"});
  // The new keys at their defaults, written out, are the same config.
  CHECK(run_id(parse(R"({"model": {"norm": "none", "residual": null, "layers": null}})")) ==
        "a3c48314156b");
}

TEST_CASE("config.json records the expanded layers and reads back as the same config",
          "[model_config]") {
  const char* configs[] = {
      "{}",
      R"({"model": {"depth": 3, "width": 4, "norm": "batch", "activation": "prelu",
                    "residual": {"every": 1, "scale": "rezero"}}})",
      R"({"model": {"layers": [{"kind": "dense", "units": 3}, {"kind": "layer_norm"}]}})",
  };
  for (const char* text : configs) {
    INFO(text);
    const Config c = parse(text);
    const Json recorded = config_with_provenance(c);
    CHECK(recorded["provenance"]["layers"] == layers_to_json(model_layers(c.model)));
    CHECK(to_json(parse_config(recorded, "config.json")) == to_json(c));
  }
  const Json recorded = config_with_provenance(parse(R"({"model": {"depth": 2, "width": 3}})"));
  CHECK(recorded["provenance"]["layers"] == Json::parse(R"([{"kind": "dense", "units": 3},
                        {"kind": "activation", "activation": "relu"},
                        {"kind": "dense", "units": 3},
                        {"kind": "activation", "activation": "relu"}])"));
}

TEST_CASE("the new model keys are reached by --set and by sweep grids", "[model_config]") {
  Json doc = Json::parse(R"({"model": {"depth": 5, "width": 4}})");
  apply_override(doc, "model.norm=batch");
  apply_override(doc, "model.norm_momentum=0.2");
  apply_override(doc, "model.activation=prelu");
  apply_override(doc, "model.residual.every=2");
  apply_override(doc, "model.residual.scale=rezero");  // not JSON: the string "rezero"
  CHECK(describe(model_layers(parse_config(doc, "m.json").model)) ==
        "dense:4 bn(0.2) res[rezero]{prelu(0.25) dense:4 bn(0.2) prelu(0.25) dense:4 bn(0.2)} "
        "res[rezero]{prelu(0.25) dense:4 bn(0.2) prelu(0.25) dense:4 bn(0.2)} prelu(0.25)");
  apply_override(doc, "model.residual=null");
  CHECK_FALSE(parse_config(doc, "m.json").model.residual.has_value());

  SECTION("one key of model.residual") {
    const SweepPlan plan = expand_sweep(Json::parse(R"({"model": {"depth": 3, "width": 2,
        "residual": {"every": 1}}, "sweep": {"model.residual.scale": [1, 0.5, "rezero",
        "inv_sqrt_blocks"]}})"),
                                        "s.json");
    REQUIRE(plan.runs.size() == 4);
    CHECK(plan.runs[1].label == "scale=0.5");
    CHECK(plan.runs[2].label == "scale=rezero");
    CHECK(plan.runs[2].config.model.residual->scale == ResidualScale::rezero);
    CHECK(plan.runs[3].config.model.residual->scale == ResidualScale::inv_sqrt_blocks);
    CHECK(plan.runs[1].config.model.residual->scale_value == 0.5);
  }
  SECTION("the whole model.residual object, with null for none") {
    const SweepPlan plan = expand_sweep(Json::parse(R"({"model": {"depth": 3, "width": 2},
        "sweep": {"model.residual": [null, {"every": 2}, {"every": 1, "scale": "rezero"}],
                  "model.norm": ["none", "layer"]}})"),
                                        "s.json");
    REQUIRE(plan.runs.size() == 6);
    CHECK_FALSE(plan.runs[1].config.model.residual.has_value());
    CHECK(plan.runs[1].config.model.norm == Norm::layer);
    CHECK(describe(model_layers(plan.runs[3].config.model)) ==
          "dense:2 ln res[1]{relu dense:2 ln relu dense:2 ln} relu");
    // A plain point of the grid keeps the plain config's id.
    CHECK(plan.runs[0].id == run_id(parse(R"({"model": {"depth": 3, "width": 2}})")));
  }
  SECTION("a swept value that breaks a rule is named by its sweep entry") {
    const InputError e = input_error([] {
      expand_sweep(Json::parse(R"({"model": {"depth": 5, "residual": {"every": 1}},
                                   "sweep": {"model.residual.every": [2, 3]}})"),
                   "s.json");
    });
    INFO(e.what());
    CHECK(e.path() == "/sweep/model.residual.every/1");
    CHECK_THAT(e.message(), Contains("expected a divisor of model.depth - 1 = 4"));
  }
  SECTION("model.layers swept as whole lists") {
    const SweepPlan plan = expand_sweep(Json::parse(R"({"sweep": {"model.layers": [
        [{"kind": "dense", "units": 2}], [{"kind": "dense", "units": 3}, {"kind": "prelu"}]]}})"),
                                        "s.json");
    REQUIRE(plan.runs.size() == 2);
    CHECK(describe(model_layers(plan.runs[1].config.model)) == "dense:3 prelu(0.25)");
    CHECK(plan.runs[0].id != plan.runs[1].id);
  }
}

TEST_CASE("model.layers reads the convolutional kinds, their defaults and back", "[model_config][conv]") {
  const std::string model = R"({"layers": [
      {"kind": "conv2d", "channels": 8, "padding": "circular"},
      {"kind": "activation", "activation": "relu"},
      {"kind": "max_pool"}, {"kind": "avg_pool", "kernel": 3, "stride": 1},
      {"kind": "global_avg_pool"}, {"kind": "flatten"}]})";
  const std::vector<LayerSpec> layers = layers_of(model);
  const std::string text = describe(layers);
  INFO(text);
  REQUIRE(text == "conv:8k3s1circular relu max_pool:2s2 avg_pool:3s1 global_avg_pool flatten");
  const Json back = {{"layers", layers_to_json(layers)}};
  REQUIRE(describe(layers_of(back.dump())) == text);
  const InputError e = input_error([] { layers_of(R"({"layers": [{"kind": "conv2d", "channels": 4, "padding": "mirror"}]})"); });
  INFO(e.what());
  REQUIRE(std::string(e.what()).find("/model/layers/0/padding") != std::string::npos);
}

TEST_CASE("a conv layer on data without an image shape is an input error", "[model_config][conv]") {
  const Config c = parse(R"({"model": {"layers": [{"kind": "dense", "units": 4},
      {"kind": "conv2d", "channels": 4}, {"kind": "flatten"}]}})");
  const InputError e = input_error([&] { network_layout(c, network_input(10, {}), 3); });
  const std::string text = e.what();
  INFO(text);
  REQUIRE(text.find("m.json") != std::string::npos);
  REQUIRE(text.find("/model/layers/1") != std::string::npos);
  REQUIRE(text.find("conv2d") != std::string::npos);
  REQUIRE(text.find("image shape") != std::string::npos);
  // Flatten alone reshapes nothing and stays allowed.
  const Config flat = parse(R"({"model": {"layers": [{"kind": "flatten"}, {"kind": "dense", "units": 4}]}})");
  REQUIRE(network_layout(flat, network_input(10, {}), 3).layers.size() == 3);
}
