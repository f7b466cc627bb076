// Config: defaults, the canonical round trip, one message per broken constraint (naming the
// JSON path), safe JSON reading, and --set overrides.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"
#include "config/config_reader.hpp"
#include "config/model_config.hpp"
#include "base/errors.hpp"
#include "config_support.hpp"

using namespace gradflow;
using namespace gradflow::test;
using Catch::Matchers::Contains;

namespace {

// A file in the temp folder for the duration of a test.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content, const std::string& stem = "cfg") {
    static std::atomic<int> counter{0};
    path = (std::filesystem::temp_directory_path() /
            ("gradflow_test_config_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter++) + "_" + stem + ".json"))
               .string();
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

std::string nested_lists(int levels) { return std::string(levels, '[') + std::string(levels, ']'); }

// Dotted paths of every leaf (lists count as leaves).
void leaf_keys(const Json& j, const std::string& prefix, std::vector<std::string>& out) {
  for (const auto& [key, value] : j.items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object()) {
      leaf_keys(value, path, out);
    } else {
      out.push_back(path);
    }
  }
}

}  // namespace

TEST_CASE("an empty config takes every default", "[config]") {
  const Config c = parse_config(Json::object(), "configs/deep_relu.json");
  CHECK(c.name == "deep_relu");
  CHECK(c.source == "configs/deep_relu.json");
  CHECK(c.base_dir == "configs");
  CHECK(c.seed == 0);
  CHECK(c.precision == Precision::float64);
  CHECK(c.data.kind == DataKind::gaussian_mixture);
  CHECK_FALSE(c.data.seed.has_value());
  CHECK(c.data.dim == 16);
  CHECK(c.data.classes == 4);
  CHECK(c.model.depth == 4);
  CHECK(c.model.width == std::vector<long>{64});
  CHECK(c.model.activation == Activation::relu);
  CHECK(c.model.init == WeightInit::he_normal);
  CHECK(c.model.bias_init.kind == BiasInit::constant);
  CHECK(c.train.loss == Loss::cross_entropy);
  CHECK(c.train.optimizer == Optimizer::sgd);
  CHECK(c.train.batch_size == 64);
  CHECK(c.log.every == 10);
  CHECK(c.sweep.is_null());
  CHECK(parse_config(Json::object(), "plain.json").base_dir == ".");
}

TEST_CASE("defaults that depend on other keys", "[config]") {
  SECTION("spirals are 2-D with two arms") {
    const Config c = parse_config(Json::parse(R"({"data": {"kind": "spirals"}})"), "s.json");
    CHECK(c.data.dim == 2);
    CHECK(c.data.classes == 2);
  }
  SECTION("regression data defaults to mse") {
    const Config c =
        parse_config(Json::parse(R"({"data": {"kind": "teacher_student"}})"), "t.json");
    CHECK(data_task(c.data) == Task::regression);
    CHECK(c.train.loss == Loss::mse);
  }
  SECTION("csv with a label column is classification") {
    const Config c = parse_config(
        Json::parse(R"({"data": {"kind": "csv", "path": "x.csv", "label_column": "y"}})"),
        "c.json");
    CHECK(data_task(c.data) == Task::classification);
    CHECK(c.train.loss == Loss::cross_entropy);
  }
  SECTION("the default batch shrinks to a small training set") {
    const Config c = parse_config(Json::parse(R"({"data": {"train_size": 20}})"), "b.json");
    CHECK(c.train.batch_size == 20);
  }
  SECTION("integral floats are integers, bias_init number is a constant") {
    const Config c = parse_config(
        Json::parse(R"({"model": {"depth": 3.0, "bias_init": 0.1}, "seed": 7.0})"), "i.json");
    CHECK(c.model.depth == 3);
    CHECK(c.seed == 7);
    CHECK(c.model.bias_init.kind == BiasInit::constant);
    CHECK(c.model.bias_init.value == 0.1);
  }
}

TEST_CASE("to_json is canonical and parse_config(to_json(c)) reproduces c", "[config]") {
  const std::string text =
      GENERATE(std::string(R"({})"),
               std::string(R"({"name": "full", "seed": 18446744073709551615, "precision": "float32",
        "description": "every section set", "$comment": "ignored",
        "data": {"kind": "gaussian_mixture", "seed": 3, "train_size": 1000, "probe_size": 100,
                 "dim": 8, "classes": 3, "separation": 2.5, "$comment": "also ignored"},
        "model": {"depth": 3, "width": [128, 64, 32], "activation": "leaky_relu",
                  "leaky_slope": 0.2, "init": "orthogonal", "init_gain": 1.4142135623730951,
                  "bias_init": {"kind": "normal", "mean": 0.1, "std": 0.01}},
        "train": {"optimizer": "adam", "lr": 3e-4, "beta2": 0.98, "steps": 0,
                  "batch_size": 1000, "clip_norm": 1.0, "schedule": "cosine", "lr_final": 1e-6},
        "log": {"every": 1, "save_params": true, "probe_every": 50},
        "sweep": {"model.depth": [2, 4, 8]}})"),
               std::string(R"({"data": {"kind": "csv", "path": "../data/x.csv",
        "target_columns": ["a", "b"], "feature_columns": ["c"], "standardize": false},
        "model": {"width": [7], "depth": 1, "activation": "tanh"},
        "train": {"optimizer": "momentum", "nesterov": true, "schedule": "step",
                  "decay_every": 7, "decay_factor": 0.5}})"),
               std::string(R"({"data": {"kind": "spirals", "noise": 0.1, "turns": 2},
                      "provenance": {"git_revision": "abc", "seed": 1},
                      "sweep": null})"));
  INFO(text);
  const Config c = parse_config(Json::parse(text), "exp/rt.json");
  const Json j = to_json(c);
  INFO(j.dump(2));

  const Config again = parse_config(j, "exp/rt.json");
  REQUIRE(to_json(again) == j);
  // Through text too: doubles must survive printing.
  const Config from_text = parse_config(Json::parse(j.dump()), "exp/rt.json");
  REQUIRE(to_json(from_text) == j);
  CHECK(again.source == c.source);
  CHECK(again.base_dir == c.base_dir);

  std::vector<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.push_back(key);
  std::vector<std::string> expected = {"name",  "seed",  "precision", "data",
                                       "model", "train", "log", "verdict"};
  if (!c.sweep.is_null()) expected.push_back("sweep");
  CHECK(keys == expected);
  CHECK(j["data"].size() == 18);
  CHECK(j["train"].size() == 15);
  CHECK(j["model"]["bias_init"].contains("kind"));
}

TEST_CASE("round trip keeps the values given", "[config]") {
  const Config c = parse_config(
      Json::parse(R"({"model": {"depth": 3, "width": [5, 6, 7]}, "data": {"seed": 9}})"), "x.json");
  const Config again = parse_config(to_json(c), "x.json");
  CHECK(again.model.width == std::vector<long>{5, 6, 7});
  REQUIRE(again.data.seed.has_value());
  CHECK(*again.data.seed == 9);
  CHECK(to_json(c)["data"]["seed"] == 9);
  CHECK(to_json(parse_config(Json::object(), "x.json"))["data"]["seed"].is_null());
  CHECK(to_json(parse_config(Json::object(), "x.json"))["model"]["width"] == 64);
}

TEST_CASE("log.probe_every at its default leaves the config document unchanged", "[config]") {
  // The run id hashes to_json: existing runs keep their ids only if the default is not emitted.
  const Json j = to_json(parse_config(Json::parse(R"({"log": {"probe_every": 0}})"), "x.json"));
  CHECK_FALSE(j["log"].contains("probe_every"));
  CHECK(to_json(parse_config(Json::parse(R"({"log": {"probe_every": 7}})"), "x.json"))["log"]
            ["probe_every"] == 7);
}

TEST_CASE("every emitted key is documented in docs/config.md", "[config]") {
  std::ifstream file(std::string(GRADFLOW_SOURCE_DIR) + "/docs/config.md");
  REQUIRE(file.good());
  const std::string docs((std::istreambuf_iterator<char>(file)), {});
  Config c = parse_config(Json::object(), "x.json");
  std::vector<std::string> keys;
  leaf_keys(to_json(c), "", keys);
  c.model.bias_init.kind = BiasInit::normal;
  c.log.probe_every = 5;  // emitted only when set
  c.model.prelu = true;   // the model's features emit their keys only when on
  c.model.norm = Norm::batch;
  c.model.residual = ResidualConfig{};
  leaf_keys(to_json(c), "", keys);
  // model.layers, and the keys of a layer object of each kind (docs/config.md, Layer stacks).
  std::vector<LayerSpec> layers(kLayerKindCount + 1);
  for (std::size_t k = 0; k < kLayerKindCount; ++k) layers[k].kind = static_cast<LayerKind>(k);
  layers[kLayerKindCount].kind = LayerKind::activation;
  layers[kLayerKindCount].activation.kind = Activation::leaky_relu;  // "slope"
  layers[static_cast<std::size_t>(LayerKind::activation)].activation.kind = Activation::elu;
  layers[static_cast<std::size_t>(LayerKind::residual)].body = {LayerSpec{}};
  c.model.layers = layers;
  leaf_keys(to_json(c), "", keys);
  for (const Json& layer : layers_to_json(layers)) {
    for (const auto& [key, value] : layer.items()) keys.push_back(key);
    keys.push_back(layer["kind"].get<std::string>());
  }
  for (const char* key : {"sweep", "description", "provenance", "$comment"}) keys.push_back(key);
  for (const std::string& key : keys) {
    INFO(key);
    CHECK_THAT(docs, Contains("`" + key + "`"));
  }
}

namespace {
struct BadConfig {
  const char* json;
  const char* path;     // the exact JSON pointer the error must name
  const char* phrase;   // must appear in the message
  const char* phrase2;  // a second phrase, or ""
};
}  // namespace

TEST_CASE("each broken constraint names its path and what was expected", "[config]") {
  const BadConfig bad = GENERATE(values<BadConfig>({
      {R"({"model": {"depth": -3}})", "/model/depth", "expected an integer >= 1, got -3", ""},
      {R"({"model": {"depth": 1001}})", "/model/depth", "expected an integer <= 1000, got 1001",
       ""},
      {R"({"model": {"depth": "4"}})", "/model/depth",
       R"(expected an integer in [1, 1000], got "4")", ""},
      {R"({"model": {"depth": 4.5}})", "/model/depth", "got 4.5", ""},
      {R"({"model": {"actvation": "relu"}})", "/model",
       R"(unknown key "actvation"; did you mean "activation"?)", ""},
      {R"({"foo": 1})", "", R"(unknown key "foo"; valid keys here:)", "precision"},
      {R"({"model": {"activation": "rleu"}})", "/model/activation",
       "expected one of identity, relu, leaky_relu, ", R"(got "rleu"; did you mean "relu"?)"},
      {R"({"model": {"depth": 4, "width": [64, 32, 16]}})", "/model/width", "expected 4 widths",
       "got 3"},
      {R"({"model": {"depth": 2, "width": [64, 0]}})", "/model/width/1",
       "expected an integer >= 1, got 0", ""},
      {R"({"model": {"width": "64"}})", "/model/width", "expected a positive integer, or a list",
       ""},
      {R"({"model": {"depth": 2, "width": []}})", "/model/width", "got []", ""},
      {R"({"model": {"bias_init": {"kind": "uniform"}}})", "/model/bias_init/kind",
       R"(expected one of constant, normal, got "uniform")", ""},
      {R"({"model": {"bias_init": {"kind": "normal", "std": -1}}})", "/model/bias_init/std",
       "expected a number >= 0, got -1", ""},
      {R"({"model": {"bias_init": {"kind": "constant", "std": 1}}})", "/model/bias_init",
       R"(unknown key "std")", "valid keys here: kind, value"},
      {R"({"model": {"bias_init": "zero"}})", "/model/bias_init", R"(got "zero")", ""},
      {R"({"model": {"init": "xavier"}})", "/model/init", "expected one of normal, uniform, ",
       R"(got "xavier")"},
      {R"({"model": 3})", "/model", "expected an object, got 3", ""},
      {R"({"data": {"train_size": 100}, "train": {"batch_size": 128}})", "/train/batch_size",
       "expected an integer <= data.train_size (100), got 128", ""},
      {R"({"data": {"kind": "teacher_student"}, "train": {"loss": "cross_entropy"}})",
       "/train/loss", "cross_entropy needs class labels", R"(use "mse")"},
      {R"({"data": {"kind": "spirals", "dim": 3}})", "/data/dim", "spirals are 2-D", "got 3"},
      {R"({"data": {"kind": "mnist"}})", "/data/kind", "expected one of gaussian_mixture, ",
       R"(got "mnist")"},
      {R"({"data": {"kind": "csv", "label_column": "y"}})", "/data", R"(needs "path")", ""},
      {R"({"data": {"kind": "csv", "path": "d.csv", "label_column": "y",
                    "target_columns": ["t"]}})",
       "/data", "exactly one of", "got both"},
      {R"({"data": {"kind": "csv", "path": "d.csv", "target_columns": []}})", "/data",
       "exactly one of", "got neither"},
      {R"({"data": {"target_columns": ["a", "a"]}})", "/data/target_columns",
       R"(column "a" is listed twice)", ""},
      {R"({"data": {"label_column": "y", "feature_columns": ["x", "y"]}})", "/data/feature_columns",
       "both a feature and a label", ""},
      {R"({"data": {"seed": 1.5}})", "/data/seed", "expected an integer >= 0, got 1.5", ""},
      {R"({"data": {"classes": 1}})", "/data/classes", "expected an integer >= 2, got 1", ""},
      {R"({"train": {"lr": 0}})", "/train/lr", "expected a number > 0, got 0", ""},
      {R"({"train": {"lr": true}})", "/train/lr", "expected a number > 0, got true", ""},
      {R"({"train": {"momentum": 1}})", "/train/momentum", "expected a number < 1, got 1", ""},
      {R"({"train": {"beta2": "0.9"}})", "/train/beta2",
       R"(expected a number in [0, 1), got "0.9")", ""},
      {R"({"train": {"decay_factor": 0}})", "/train/decay_factor", "expected a number > 0, got 0",
       ""},
      {R"({"train": {"nesterov": 1}})", "/train/nesterov", "expected true or false, got 1", ""},
      {R"({"train": {"optimizer": "adamw"}})", "/train/optimizer", R"(did you mean "adam"?)", ""},
      {R"({"train": {"steps": -1}})", "/train/steps", "expected an integer >= 0, got -1", ""},
      {R"({"log": {"every": 0}})", "/log/every", "expected an integer >= 1, got 0", ""},
      {R"({"seed": -1})", "/seed", "expected an integer >= 0, got -1", ""},
      {R"({"precision": "float16"})", "/precision", "expected one of float64, float32", ""},
      {R"({"name": "../evil"})", "/name", "contains '/'", ""},
      {R"({"sweep": [1]})", "/sweep", "expected an object, got [1]", ""},
      {R"({"$comment": 5})", "/$comment", "expected a string, got 5", ""},
      {R"({"provenance": "v1"})", "/provenance", R"(expected an object, got "v1")", ""},
      {R"([1, 2])", "", "expected an object, got [1,2]", ""},
  }));
  INFO(bad.json);
  const InputError e = input_error([&] { parse_config(Json::parse(bad.json), "bad.json"); });
  INFO(e.what());
  CHECK(e.where() == "bad.json");
  CHECK(e.path() == bad.path);
  CHECK_THAT(e.message(), Contains(bad.phrase));
  CHECK_THAT(e.message(), Contains(bad.phrase2));
}

TEST_CASE("the exact wording of the headline messages", "[config]") {
  const InputError e =
      input_error([] { parse_config(Json::parse(R"({"model": {"depth": -3}})"), "x.json"); });
  CHECK(std::string(e.what()) == "x.json: /model/depth: expected an integer >= 1, got -3");
}

TEST_CASE("reading JSON files safely", "[config]") {
  SECTION("malformed JSON reports line and column") {
    const TempFile file("{\n  \"model\": {\n    \"depth\": 4,\n  }\n}\n");
    const InputError e = input_error([&] { read_json_file(file.path); });
    INFO(e.what());
    CHECK(e.where() == file.path);
    CHECK(e.path().empty());
    CHECK_THAT(e.message(), Contains("invalid JSON at line 4, column 3: "));
  }
  SECTION("an error on the first line") {
    const InputError e = input_error([] { parse_json_text("{\"a\": tru}", "t.json"); });
    INFO(e.what());
    CHECK_THAT(e.message(), Contains("invalid JSON at line 1, column "));
    CHECK_THAT(e.message(), Contains("invalid literal"));
  }
  SECTION("a missing file") {
    const InputError e = input_error([] { read_json_file("/nonexistent/gradflow/x.json"); });
    CHECK(e.where() == "/nonexistent/gradflow/x.json");
    CHECK_THAT(e.message(), Contains("cannot read file: No such file or directory"));
  }
  SECTION("a folder") {
    const InputError e =
        input_error([] { read_json_file(std::filesystem::temp_directory_path().string()); });
    CHECK_THAT(e.message(), Contains("cannot read file: "));
  }
  SECTION("nesting is limited to 64 levels") {
    CHECK_NOTHROW(parse_json_text(nested_lists(kMaxJsonDepth), "d.json"));
    const TempFile file("{\"sweep\": " + nested_lists(10000) + "}");
    const InputError e = input_error([&] { read_json_file(file.path); });
    INFO(e.what());
    CHECK_THAT(e.message(), Contains("nested deeper than 64 levels"));
    CHECK_THAT(e.path(), Contains("/sweep/0/0/0"));
    CHECK_THROWS_AS(parse_json_text(nested_lists(kMaxJsonDepth + 1), "d.json"), InputError);
  }
  SECTION("duplicate keys are errors, not last-one-wins") {
    const InputError e = input_error(
        [] { parse_json_text(R"({"model": {"depth": 4, "width": 8, "depth": 6}})", "d.json"); });
    CHECK(e.path() == "/model");
    CHECK_THAT(e.message(), Contains(R"(duplicate key "depth")"));
  }
  SECTION("numbers too large for a double") {
    const InputError e = input_error([] { parse_json_text(R"({"lr": 1e999})", "n.json"); });
    CHECK_THAT(e.message(), Contains("number overflow"));
  }
  SECTION("files over 16 MiB are refused") {
    const TempFile file(std::string(kMaxJsonBytes + 1, ' '));
    const InputError e = input_error([&] { read_json_file(file.path); });
    CHECK_THAT(e.message(), Contains("16 MiB"));
  }
}

TEST_CASE("load_config reads, overrides, then validates", "[config]") {
  const TempFile file(R"({"model": {"depth": 8}, "data": {"kind": "csv", "path": "x.csv",
                          "label_column": "y"}})",
                      "loaded");
  const Config c = load_config(file.path, {"model.depth=50", "model.activation=tanh"});
  CHECK(c.model.depth == 50);
  CHECK(c.model.activation == Activation::tanh);
  CHECK(c.source == file.path);
  CHECK(c.base_dir == std::filesystem::path(file.path).parent_path().string());
  CHECK(c.data.path == "x.csv");  // stored as given; the data module resolves it
  CHECK_THAT(c.name, Contains("loaded"));

  const InputError e = input_error([&] { load_config(file.path, {"model.depth=0"}); });
  CHECK(e.where() == file.path + " (after --set)");
  CHECK(e.path() == "/model/depth");
  CHECK(load_config(file.path).model.depth == 8);
}

TEST_CASE("apply_override", "[config]") {
  Json doc = Json::parse(R"({"model": {"depth": 4}, "train": 3})");
  SECTION("a number replaces the value") {
    apply_override(doc, "model.depth=50");
    CHECK(doc["model"]["depth"] == 50);
    CHECK(doc["model"]["depth"].is_number_integer());
  }
  SECTION("text that is not JSON is a string") {
    apply_override(doc, "model.activation=tanh");
    CHECK(doc["model"]["activation"] == "tanh");
    apply_override(doc, "name=a=b");
    CHECK(doc["name"] == "a=b");
    apply_override(doc, "data.path=");
    CHECK(doc["data"]["path"] == "");
  }
  SECTION("a quoted JSON string stays a string") {
    apply_override(doc, R"(name="42")");
    CHECK(doc["name"] == "42");
  }
  SECTION("lists and objects") {
    apply_override(doc, "model.width=[64,32]");
    CHECK(doc["model"]["width"] == Json::parse("[64,32]"));
    apply_override(doc, R"(model.bias_init={"kind":"normal","std":0.1})");
    CHECK(doc["model"]["bias_init"]["std"] == 0.1);
  }
  SECTION("intermediate objects are created") {
    apply_override(doc, "log.every=5");
    apply_override(doc, "a.b.c=true");
    CHECK(doc["log"]["every"] == 5);
    CHECK(doc["a"]["b"]["c"] == true);
    Json empty;
    apply_override(empty, "seed=3");
    CHECK(empty == Json::parse(R"({"seed": 3})"));
  }
  SECTION("a sweep key is a dotted config path: sweep.<key> is one entry of the sweep") {
    apply_override(doc, "sweep.model.depth=[2,4]");
    apply_override(doc, "sweep.seeds=3");
    CHECK(doc["sweep"] == Json::parse(R"({"model.depth": [2, 4], "seeds": 3})"));
    apply_override(doc, R"(sweep.model.activation=["relu","tanh"])");
    CHECK(doc["sweep"]["model.activation"] == Json::parse(R"(["relu","tanh"])"));
    CHECK_FALSE(doc["sweep"].contains("model"));
    apply_override(doc, "sweep=null");
    CHECK(doc["sweep"].is_null());
  }
  SECTION("malformed assignments") {
    struct Bad {
      const char* assignment;
      const char* phrase;
    };
    const Bad bad = GENERATE(values<Bad>({
        {"model.depth", "expected key=value"},
        {"=5", "the key before '=' is empty"},
        {"model..depth=1", "empty segment"},
        {".depth=1", "empty segment"},
        {"model.=1", "empty segment"},
        {"train.lr=0.1", "train is 3, not an object"},
        {"model.depth.x=1", "model.depth is 4, not an object"},
    }));
    INFO(bad.assignment);
    const InputError e = input_error([&] { apply_override(doc, bad.assignment); });
    INFO(e.what());
    CHECK(e.where() == "--set");
    CHECK(e.path().empty());
    CHECK_THAT(e.message(), Contains(bad.phrase));
  }
}

TEST_CASE("did-you-mean suggestions", "[config]") {
  const std::vector<std::string_view> keys = {"depth", "width", "activation", "batch_size"};
  CHECK(edit_distance("rleu", "relu") == 1);  // a transposition is one edit
  CHECK(edit_distance("", "abc") == 3);
  CHECK(closest_name("actvation", keys) == std::optional<std::string_view>("activation"));
  CHECK(closest_name("act", keys) == std::optional<std::string_view>("activation"));
  CHECK(closest_name("batch", keys) == std::optional<std::string_view>("batch_size"));
  CHECK_FALSE(closest_name("xy", keys).has_value());
  CHECK_FALSE(closest_name("learning_rate", keys).has_value());
  CHECK(closest_name("Depth", keys) == std::optional<std::string_view>("depth"));
  CHECK_FALSE(closest_name("foo", std::vector<std::string_view>{"log"}).has_value());
}

TEST_CASE("names of the closed sets", "[config]") {
  CHECK(precision_name(Precision::float32) == "float32");
  CHECK(data_kind_name(DataKind::gaussian_targets) == "gaussian_targets");
  CHECK(loss_name(Loss::mse) == "mse");
  CHECK(optimizer_name(Optimizer::momentum) == "momentum");
  CHECK(schedule_name(Schedule::cosine) == "cosine");
}
