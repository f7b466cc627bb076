// Conv networks from the config (issue 15, stage 3): model.conv's expansion and its keys, the
// data's image shape reaching the layout, one InputError per layer that does not fit its input
// (file, JSON path, layer index and kind, shape), and a conv run end to end on a tiny .npy
// image set made here.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "base/errors.hpp"
#include "config/config.hpp"
#include "config/model_config.hpp"
#include "config/network_layout.hpp"
#include "io/params_io.hpp"
#include "io/writers.hpp"
#include "nn/network_init.hpp"
#include "nn/rng.hpp"
#include "config_support.hpp"
#include "support.hpp"

using namespace gradflow;
using namespace gradflow::test;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;

namespace {

Config parse(const std::string& json) { return parse_config(Json::parse(json), "m.json"); }

Config model(const std::string& model_json) { return parse(R"({"model": )" + model_json + "}"); }

// The network a config builds on an image of `image` (C, H, W).
NetworkLayout layout_on(const Config& c, std::vector<long> image, long outputs = 10) {
  return network_layout(c, network_input(image[0] * image[1] * image[2], image), outputs);
}

const char* const kFashionCnn =
    R"({"conv": {"channels": [16, 16, 16, 16], "kernel": 3, "pool": "max", "pool_every": 2},
        "depth": 0})";

// A .npy v1.0 file: little-endian `descr` values of the given shape (C order).
std::string npy_file(const std::string& descr, const std::string& shape, const std::string& data) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + dict.size() + 1) % 64) dict += ' ';
  dict += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + char(dict.size() & 0xff) + char(dict.size() >> 8) +
         dict + data;
}

template <class V>
std::string raw_bytes(const std::vector<V>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(V));
}

// n images of 1 x 8 x 8: class 0 is bright on the left half, class 1 on the right, both with
// a deterministic ripple so no two images are equal.
void write_tiny_images(const TempDir& dir, long n) {
  std::vector<float> x;
  std::vector<std::int64_t> y;
  for (long i = 0; i < n; ++i) {
    const int label = int(i % 2);
    y.push_back(label);
    for (long r = 0; r < 8; ++r)
      for (long c = 0; c < 8; ++c) {
        const bool lit = label == 0 ? c < 4 : c >= 4;
        x.push_back(float((lit ? 1.0 : 0.0) + 0.3 * std::sin(0.7 * double(i) + double(r * 8 + c))));
      }
  }
  write_text(dir.file("x.npy"), npy_file("<f4", "(" + std::to_string(n) + ", 1, 8, 8)", raw_bytes(x)));
  write_text(dir.file("y.npy"), npy_file("<i8", "(" + std::to_string(n) + ",)", raw_bytes(y)));
}

const char* const kTinyRun = R"({
  "name": "tiny_cnn", "seed": 5,
  "data": {"kind": "npy", "path": "x.npy", "labels_path": "y.npy", "train_size": 96,
           "probe_size": 32},
  "model": {"conv": {"channels": [4, 4], "kernel": 3, "pool": "max"}, "depth": 1, "width": 8},
  "train": {"optimizer": "sgd", "lr": 0.1, "steps": 30, "batch_size": 16},
  "log": {"every": 10}})";

}  // namespace

TEST_CASE("model.conv expands into conv, act, pool layers, a flatten and the dense stack",
          "[conv][model_config]") {
  CHECK(describe(model_layers(model(kFashionCnn).model)) ==
        "conv:16k3s1same relu conv:16k3s1same relu max_pool:2s2 "
        "conv:16k3s1same relu conv:16k3s1same relu max_pool:2s2 flatten");
  CHECK(describe(model_layers(model(R"({"conv": {"channels": [4, 8], "kernel": 5,
      "padding": "valid", "stride": 2, "pool": "avg", "pool_size": 3, "global_pool": true},
      "depth": 2, "width": 6, "activation": "tanh", "norm": "batch"})")
                               .model)) ==
        "conv:4k5s2valid bn(0.1) tanh avg_pool:3s3 conv:8k5s2valid bn(0.1) tanh avg_pool:3s3 "
        "global_avg_pool dense:6 bn(0.1) tanh dense:6 bn(0.1) tanh");
  CHECK(describe(model_layers(model(R"({"conv": {"channels": [3]}, "norm": "layer",
      "activation": "prelu", "depth": 1, "width": 5})")
                               .model)) == "conv:3k3s1same ln prelu(0.25) flatten dense:5 ln prelu(0.25)");
  // The shorthand without conv is untouched.
  CHECK(describe(model_layers(model(R"({"depth": 1, "width": 5})").model)) == "dense:5 relu");
}

TEST_CASE("model.conv round-trips through to_json; config.json records the expanded layers",
          "[conv][model_config]") {
  const Config c = model(R"({"conv": {"channels": [4, 8], "pool": "max", "pool_every": 2,
                                      "padding": "circular"}, "depth": 0})");
  const Json doc = to_json(c);
  INFO(doc["model"].dump());
  CHECK(doc["model"]["conv"].dump() ==
        R"({"channels":[4,8],"kernel":3,"padding":"circular","stride":1,"pool":"max",)"
        R"("pool_every":2,"pool_size":2,"global_pool":false})");
  const Config back = parse_config(doc, "m.json");
  CHECK(describe(model_layers(back.model)) == describe(model_layers(c.model)));
  CHECK(to_json(back).dump() == doc.dump());
  const Json layers = config_with_provenance(c)["provenance"]["layers"];
  REQUIRE(layers.size() == 6);
  CHECK(layers[0].dump() ==
        R"({"kind":"conv2d","channels":4,"kernel":3,"stride":1,"padding":"circular"})");
  CHECK(layers[4]["kind"] == "max_pool");
  CHECK(layers[5]["kind"] == "flatten");
  // Without a pool, pool_every and pool_size are left out (they would be refused).
  const Json plain = to_json(model(R"({"conv": {"channels": [2]}})"))["model"]["conv"];
  CHECK_FALSE(plain.contains("pool_every"));
  CHECK(describe(model_layers(parse_config(to_json(model(R"({"conv": {"channels": [2]}})")),
                                           "m.json")
                                  .model)) == "conv:2k3s1same relu flatten dense:64 relu dense:64 "
                                              "relu dense:64 relu dense:64 relu");
}

TEST_CASE("the image shape reaches the layout; a plain MLP still reads it flat",
          "[conv][layout]") {
  const NetworkLayout cnn = layout_on(model(kFashionCnn), {1, 28, 28});
  // 4 convs of 16 channels (16 (1 9 + 1), then 3 x 16 (16 9 + 1)), dense 784 -> 10.
  CHECK(cnn.parameter_count == std::size_t(16 * 10 + 3 * 16 * 145 + 784 * 10 + 10));
  CHECK(cnn.input_shape == Shape{1, 28, 28});
  const Layer& flatten = cnn.layers[10];
  REQUIRE(flatten.kind == LayerKind::flatten);
  CHECK(flatten.in_shape == Shape{16, 7, 7});
  CHECK(flatten.out_shape == Shape{784, 1, 1});
  CHECK(cnn.rows.size() == 5);  // four conv rows and the output

  // Dense-only stacks (and norms before them) read the image flat: the same layout as flat data.
  const Config mlp = model(R"({"depth": 2, "width": 8, "norm": "batch"})");
  const NetworkLayout on_image = layout_on(mlp, {1, 28, 28});
  const NetworkLayout on_flat = network_layout(mlp, network_input(784, {}), 10);
  CHECK(on_image.input_shape == Shape{784, 1, 1});
  CHECK(on_image.parameter_count == on_flat.parameter_count);
  CHECK(on_image.layers[0].in_shape == on_flat.layers[0].in_shape);
  const Config bn_first = model(R"({"layers": [{"kind": "batch_norm"}, {"kind": "dense", "units": 4}]})");
  CHECK(layout_on(bn_first, {3, 4, 4}).tensors[0].rows == 48);  // per feature, as before

  // model.norm after a conv: batch norm per channel, layer norm over (C, H, W) per example.
  const NetworkLayout bn = layout_on(model(R"({"conv": {"channels": [6]}, "norm": "batch",
                                                "depth": 0})"),
                                     {2, 5, 5});
  REQUIRE(bn.layers[1].kind == LayerKind::batch_norm);
  CHECK(bn.tensors[2].name == "gamma2");
  CHECK(bn.tensors[2].rows == 6);
  CHECK(bn.state_count == 12);
  const NetworkLayout ln = layout_on(model(R"({"conv": {"channels": [6]}, "norm": "layer",
                                                "depth": 0})"),
                                     {2, 5, 5});
  REQUIRE(ln.layers[1].kind == LayerKind::layer_norm);
  CHECK(ln.tensors[2].rows == 6 * 25);
}

namespace {

// The initial parameters a model config draws on an image of `image` (C, H, W).
Parameters initial_on(const std::string& model_json, std::vector<long> image, std::uint64_t seed) {
  const Config c = model(model_json);
  Rng rng = make_rng(seed, "init");
  return initial_parameters(layout_on(c, std::move(image)), c.model.weight_init_spec(),
                            c.model.bias_init, rng);
}

double rms(const MatD& w) { return std::sqrt(w.squaredNorm() / double(w.size())); }

}  // namespace

TEST_CASE("model.init draws conv kernels with fan_in = C_in k k", "[conv][init]") {
  const Parameters p = initial_on(R"({"conv": {"channels": [32, 32], "kernel": 3}, "depth": 0,
                                      "init": "he_normal"})",
                                  {4, 6, 6}, 7);
  const MatD& w2 = p.tensors[2];  // W2: (32, 32 x 3 x 3)
  REQUIRE(w2.rows() == 32);
  REQUIRE(w2.cols() == 288);
  INFO("rms " << rms(w2) << ", He: " << std::sqrt(2.0 / 288));
  CHECK_THAT(rms(w2), WithinRel(std::sqrt(2.0 / 288), 0.05));
  INFO("first layer rms " << rms(p.tensors[0]) << ", He: " << std::sqrt(2.0 / 36));
  CHECK_THAT(rms(p.tensors[0]), WithinRel(std::sqrt(2.0 / 36), 0.1));
}

TEST_CASE("every initial tensor has its layout's shape and survives a save and a load",
          "[conv][init]") {
  // One stack with every kind that has parameters: conv (bias per channel), batch norm after
  // a conv (per channel), prelu after a conv (per unit), layer norm, dense, a residual block
  // with a skip projection and a ReZero gate, and the output. Both bias inits: the normal one
  // draws each bias from the RNG, so a wrong size shifts every tensor drawn after it.
  const std::string stack = R"({"layers": [
      {"kind": "conv2d", "channels": 4, "kernel": 3},
      {"kind": "batch_norm"}, {"kind": "prelu"},
      {"kind": "conv2d", "channels": 3, "kernel": 2, "padding": "valid"},
      {"kind": "layer_norm"}, {"kind": "activation", "activation": "tanh"},
      {"kind": "max_pool", "kernel": 2}, {"kind": "flatten"},
      {"kind": "dense", "units": 6},
      {"kind": "residual", "scale": "rezero", "layers": [
        {"kind": "dense", "units": 5}, {"kind": "activation", "activation": "relu"}]}],
      "init": "he_normal", "bias_init": )";
  for (const std::string bias : {R"({"kind": "constant", "value": 0.1})",
                                 R"({"kind": "normal", "std": 0.1})"}) {
    INFO("bias_init " << bias);
    const Config c = model(stack + bias + "}");
    const NetworkLayout layout = layout_on(c, {2, 5, 5});
    Rng rng = make_rng(11, "init");
    const Parameters p =
        initial_parameters(layout, c.model.weight_init_spec(), c.model.bias_init, rng);
    REQUIRE(p.tensors.size() == layout.tensors.size());
    for (std::size_t t = 0; t < p.tensors.size(); ++t) {
      INFO(layout.tensors[t].name);
      CHECK(p.tensors[t].rows() == layout.tensors[t].rows);
      CHECK(p.tensors[t].cols() == layout.tensors[t].cols);
    }
    CHECK(layout.tensors[1].name == "b1");
    CHECK(p.tensors[1].size() == 4);  // one bias per output channel, not per output value
    TempDir dir("init-shapes");
    save_parameters(dir.file("params"), layout, p);
    const Parameters back = load_parameters(dir.file("params"), layout, "m.json");
    for (std::size_t t = 0; t < p.tensors.size(); ++t) {
      INFO(layout.tensors[t].name);
      CHECK(back.tensors[t] == p.tensors[t]);
    }
  }
}

TEST_CASE("Xavier on a conv kernel: fan_out = C_out k k, as PyTorch", "[conv][init]") {
  // 8 -> 32 channels, 5 x 5: fan_in 200, fan_out 800; without the taps fan_out would be 32.
  const Parameters p = initial_on(R"({"conv": {"channels": [8, 32], "kernel": 5}, "depth": 0,
                                      "init": "xavier_normal"})",
                                  {1, 8, 8}, 3);
  const MatD& w2 = p.tensors[2];  // W2: (32, 8 x 5 x 5)
  REQUIRE(w2.cols() == 200);
  INFO("rms " << rms(w2) << ", Xavier: " << std::sqrt(2.0 / (200 + 800)));
  CHECK_THAT(rms(w2), WithinRel(std::sqrt(2.0 / (200 + 800)), 0.05));
}

TEST_CASE("delta_orthogonal puts the orthogonal matrix at the kernel's centre tap", "[conv][init]") {
  for (const char* padding : {"same", "valid", "circular"}) {
    const Parameters p =
        initial_on(std::string(R"({"conv": {"channels": [4], "kernel": 3, "padding": ")") +
                       padding + R"("}, "depth": 0, "init": "delta_orthogonal"})",
                   {4, 6, 6}, 5);
    const MatD& w = p.tensors[0];  // (4, 4 x 3 x 3), column ci 9 + ky 3 + kx
    INFO("padding " << padding);
    MatD centre(4, 4);
    for (long ci = 0; ci < 4; ++ci) centre.col(ci) = w.col(ci * 9 + 4);
    CHECK((centre.transpose() * centre - MatD::Identity(4, 4)).cwiseAbs().maxCoeff() < 1e-12);
    CHECK_THAT(w.squaredNorm(), WithinRel(4.0, 1e-12));  // nothing off the centre
  }
}

TEST_CASE("bad model.conv keys name their JSON path", "[conv][model_config]") {
  struct Bad {
    const char* model;
    const char* path;
    const char* part;
  };
  const Bad bad = GENERATE(values<Bad>({
      {R"({"conv": {"channels": []}})", "/model/conv/channels",
       "expected a non-empty list of output channel counts"},
      {R"({"conv": {"kernel": 3}})", "/model/conv", R"(missing "channels")"},
      {R"({"conv": {"channels": [4, 0]}})", "/model/conv/channels/1", "expected an integer >= 1"},
      {R"({"conv": {"channels": [4], "stride": 0}})", "/model/conv/stride",
       "a conv2d layer's stride is the step between its window's positions: expected an integer "
       ">= 1, got 0"},
      {R"({"layers": [{"kind": "conv2d", "channels": 4, "stride": 0}]})",
       "/model/layers/0/stride", "a conv2d layer's stride"},
      {R"({"layers": [{"kind": "max_pool", "stride": 0}]})", "/model/layers/0/stride",
       "a max_pool layer's stride"},
      {R"({"conv": {"channels": [4], "padding": "mirror"}})", "/model/conv/padding",
       "expected one of same, valid, circular"},
      {R"({"conv": {"channels": [4], "pool": "min"}})", "/model/conv/pool",
       "expected one of none, max, avg"},
      {R"({"conv": {"channels": [4], "pool_every": 1}})", "/model/conv/pool_every",
       R"(pool_every applies to model.conv.pool "max" or "avg", but the pool is "none")"},
      {R"({"conv": {"channels": [4], "pool_size": 3}})", "/model/conv/pool_size",
       "pool_size applies to model.conv.pool"},
      {R"({"conv": {"channels": [4, 4], "pool": "max", "pool_every": 3}})",
       "/model/conv/pool_every", "expected at most the number of conv layers (2"},
      {R"({"conv": {"channels": [4], "filters": 3}})", "/model/conv", R"(unknown key "filters")"},
      {R"({"conv": [4]})", "/model/conv", "expected an object"},
      {R"({"conv": {"channels": [4]}, "depth": 4, "residual": {"every": 1}})", "/model/residual",
       "model.residual cannot be given with model.conv"},
      {R"({"conv": {"channels": [4]}, "layers": [{"kind": "flatten"}]})", "/model/conv",
       R"(so "conv" cannot be given with it)"},
      {R"({"depth": 0})", "/model/depth",
       "model.depth 0, no hidden dense layer, is allowed only with model.conv"},
      {R"({"conv": {"channels": [4]}, "depth": -1})", "/model/depth",
       "expected an integer >= 0, got -1"},
  }));
  const InputError e = input_error([&] { model(bad.model); });
  INFO(e.what());
  CHECK(e.where() == "m.json");
  CHECK(e.path() == bad.path);
  CHECK_THAT(e.message(), Contains(bad.part));
}

TEST_CASE("a layer that does not fit its input's shape names the file, path, layer and shape",
          "[conv][layout]") {
  SECTION("a valid-padded kernel larger than its input") {
    const InputError e = input_error([] {
      layout_on(model(R"({"layers": [{"kind": "conv2d", "channels": 4, "kernel": 5,
                                      "padding": "valid"}, {"kind": "flatten"}]})"),
                {1, 4, 4});
    });
    INFO(e.what());
    CHECK(e.where() == "m.json");
    CHECK(e.path() == "/model/layers/0");
    CHECK_THAT(e.message(), Contains("layer 0 (conv2d)") && Contains("5 x 5 kernel") &&
                                Contains("1 x 4 x 4 (C x H x W)"));
    // Through the shorthand: the third conv reads 1 x 1 after two valid 3 x 3 convs of 5 x 5.
    const InputError s = input_error([] {
      layout_on(model(R"({"conv": {"channels": [4, 4, 4], "padding": "valid"}, "depth": 0})"),
                {1, 5, 5});
    });
    INFO(s.what());
    CHECK(s.path() == "/model/conv/kernel");
    CHECK_THAT(s.message(), Contains("layer 4 (conv2d)") && Contains("4 x 1 x 1 (C x H x W)"));
    // Same padding never runs out of positions.
    CHECK(layout_on(model(R"({"conv": {"channels": [4], "kernel": 7}, "depth": 0})"), {1, 2, 2})
              .parameter_count > 0);
  }
  SECTION("a conv or pool after a flatten or a dense layer") {
    const InputError e = input_error([] {
      layout_on(model(R"({"layers": [{"kind": "flatten"}, {"kind": "conv2d", "channels": 4}]})"),
                {1, 8, 8});
    });
    INFO(e.what());
    CHECK(e.path() == "/model/layers/1");
    CHECK_THAT(e.message(), Contains("layer 1 (conv2d) reads the flat output of layer 0 "
                                     "(flatten), 64 x 1 x 1 (C x H x W)"));
    const InputError d = input_error([] {
      layout_on(model(R"({"layers": [{"kind": "conv2d", "channels": 2},
          {"kind": "dense", "units": 8}, {"kind": "max_pool"}]})"),
                {1, 8, 8});
    });
    INFO(d.what());
    CHECK(d.path() == "/model/layers/2");
    CHECK_THAT(d.message(), Contains("layer 2 (max_pool) reads the flat output of layer 1 "
                                     "(dense), 8 x 1 x 1"));
    // Inside a residual block the path goes down into its list.
    const InputError r = input_error([] {
      layout_on(model(R"({"layers": [{"kind": "dense", "units": 4}, {"kind": "residual",
          "layers": [{"kind": "avg_pool"}]}]})"),
                {1, 8, 8});
    });
    CHECK(r.path() == "/model/layers/1/layers/0");
  }
  SECTION("pools that shrink the image to 0") {
    const InputError e = input_error([] {
      layout_on(model(R"({"conv": {"channels": [4, 4, 4, 4], "pool": "max"}, "depth": 0})"),
                {1, 8, 8});
    });
    INFO(e.what());
    CHECK(e.where() == "m.json");
    CHECK(e.path() == "/model/conv/pool_size");
    CHECK_THAT(e.message(), Contains("layer 11 (max_pool) has a 2 x 2 window, larger than its "
                                     "input 4 x 1 x 1 (C x H x W), so the pools shrink the "
                                     "image to 0 x 0"));
    const InputError l = input_error([] {
      layout_on(model(R"({"layers": [{"kind": "avg_pool", "kernel": 3}, {"kind": "flatten"}]})"),
                {2, 2, 5});
    });
    CHECK(l.path() == "/model/layers/0");
    CHECK_THAT(l.message(), Contains("2 x 2 x 5 (C x H x W)") && Contains("0 x 1"));
  }
  SECTION("a conv on data without an image shape names the data") {
    const Config c = parse(R"({"data": {"kind": "npy", "path": "flat.npy", "labels_path": "y.npy"},
                               "model": {"conv": {"channels": [4]}, "depth": 0}})");
    const InputError e = input_error([&] { network_layout(c, network_input(20, {}), 3); });
    INFO(e.what());
    CHECK(e.where() == "m.json");
    CHECK(e.path() == "/model/conv");
    CHECK_THAT(e.message(), Contains("layer 0 (conv2d) needs data with an image shape") &&
                                Contains(R"(data.kind "npy" (file "flat.npy") gives 20 flat )"
                                         "features"));
    const InputError g = input_error([] {
      network_layout(model(R"({"layers": [{"kind": "global_avg_pool"}]})"),
                     network_input(16, {}), 4);
    });
    CHECK(g.path() == "/model/layers/0");
    CHECK_THAT(g.message(), Contains(R"(data.kind "gaussian_mixture" gives 16 flat features)"));
  }
}

TEST_CASE("a model.conv run on a tiny .npy image set trains and writes its records",
          "[conv][train]") {
  TempDir dir("conv-run");
  write_tiny_images(dir, 128);
  write_text(dir.file("cnn.json"), kTinyRun);
  const Config config = load_config(dir.file("cnn.json"));
  const InMemoryRun run = run_in_memory(config);
  REQUIRE(run.result.summary.status == RunStatus::completed);
  REQUIRE(run.records.steps.size() == 4);  // steps 0, 10, 20, 30
  const double first = run.records.steps.front().loss, last = run.records.steps.back().loss;
  INFO("loss " << first << " -> " << last);
  REQUIRE(std::isfinite(last));
  CHECK(last < first);
  CHECK(run.records.steps.back().probe_accuracy > 0.9);  // left vs right half: easy

  // The binary: the same run writes steps.csv and layers.csv with conv rows.
  const CliResult cli = gradflow_cli("run " + dir.file("cnn.json") + " --out " + dir.file("out"));
  INFO(cli.output);
  REQUIRE(cli.code == 0);
  const std::string steps = read_text(dir.file("out/steps.csv"));
  const std::string layers = read_text(dir.file("out/layers.csv"));
  CHECK(std::count(steps.begin(), steps.end(), '\n') == 5);
  CHECK(contains(layers, "conv2d"));
  const Json recorded = Json::parse(read_text(dir.file("out/config.json")));
  CHECK(recorded["model"]["conv"]["channels"].dump() == "[4,4]");
  CHECK(recorded["provenance"]["layers"][0]["kind"] == "conv2d");

  // Its report names the conv layers before the dense stack, and the rows by kind.
  const CliResult report = gradflow_cli("report " + dir.file("out"));
  INFO(report.output);
  REQUIRE(report.code == 0);
  const std::string page = read_text(dir.file("out/report.html"));
  CHECK(contains(page, "2 conv2d layers, then 1 hidden dense layer of width 8"));
  CHECK(contains(page, "1 conv2d<"));
}

TEST_CASE("a CNN sweep's report says there is no prediction instead of empty theory panels",
          "[conv][report]") {
  TempDir dir("conv-sweep-report");
  write_tiny_images(dir, 64);
  Json doc = Json::parse(kTinyRun);
  doc["data"]["train_size"] = 48;
  doc["data"]["probe_size"] = 16;
  doc["train"]["steps"] = 4;
  doc["log"]["every"] = 2;
  doc["sweep"] = Json::parse(R"({"model.activation": ["relu", "tanh"]})");
  write_text(dir.file("sweep.json"), doc.dump());
  const CliResult run = gradflow_cli("run " + dir.file("sweep.json") + " --out " + dir.file("out") + " -q");
  INFO(run.output);
  REQUIRE(run.code == 0);
  const CliResult report = gradflow_cli("report " + dir.file("out") + " -q");
  INFO(report.output);
  REQUIRE(report.code == 0);
  const std::string page = read_text(dir.file("out/report.html"));
  CHECK(contains(page, "<h3>grad_ratio_log10_init</h3>"));
  CHECK(contains(page, "<h3>theory_grad_ratio_log10</h3>"));
  CHECK(contains(page, "No run of this sweep has a mean-field prediction of this metric"));
  CHECK_FALSE(contains(page, "theory_grad_ratio_log10, activation ="));  // no panels of nan
  CHECK(contains(page, "no prediction for max_pool"));  // the kind that breaks the stack
}

TEST_CASE("a vanilla CNN (no pools) gets the delta prediction, with no grad_w prediction",
          "[conv][theory]") {
  TempDir dir("conv-theory");
  write_tiny_images(dir, 64);
  Json doc = Json::parse(kTinyRun);
  doc["model"]["conv"]["pool"] = "none";
  doc["train"]["steps"] = 2;
  write_text(dir.file("cnn.json"), doc.dump());
  const CliResult run = gradflow_cli("run " + dir.file("cnn.json") + " --out " + dir.file("out") + " -q");
  INFO(run.output);
  REQUIRE(run.code == 0);
  const Json summary = Json::parse(read_text(dir.file("out/summary.json")));
  INFO(summary.dump(1));
  REQUIRE(summary["theory_delta_ratio_log10"].is_number());
  CHECK(std::isfinite(summary["theory_delta_ratio_log10"].get<double>()));
  CHECK(!summary["theory_grad_ratio_log10"].is_number());  // nan is written as null
  bool said = false;
  for (const Json& c : summary["theory_caveats"])
    said = said || contains(c.get<std::string>(), "conv2d: delta only");
  CHECK(said);
}
