// Run labels of swept layer stacks: a short description instead of the list's JSON, folded
// repeats, defaults left out, "#n" where two different lists would read the same; and the
// same text in `gradflow plan`, runs.csv and the report's heatmaps and tables.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "config/config_reader.hpp"
#include "config/run_label.hpp"
#include "config/sweep.hpp"
#include "report/plot_svg.hpp"
#include "support.hpp"

using namespace gradflow;
using namespace gradflow::test;
using Catch::Matchers::Contains;

namespace {

Json json(const std::string& text) { return Json::parse(text); }

// A vanilla CNN as experiment g writes it: conv, act, a pool, then depth-1 more conv+act pairs.
Json vanilla_cnn(int depth, const std::string& activation) {
  const Json conv = json(R"({"kind": "conv2d", "channels": 8, "kernel": 3, "padding": "circular"})");
  const Json act = {{"kind", "activation"}, {"activation", activation}};
  Json layers = Json::array({conv, act, json(R"({"kind": "max_pool", "kernel": 4})")});
  for (int i = 1; i < depth; ++i) layers.push_back(conv), layers.push_back(act);
  layers.push_back(json(R"({"kind": "flatten"})"));
  return layers;
}

}  // namespace

TEST_CASE("a swept layer list is labelled by a short description of its stack", "[sweep][label]") {
  CHECK(label_value(vanilla_cnn(8, "relu")) ==
        "conv8-circular relu maxpool4 7x(conv8-circular relu) flatten");
  CHECK(label_value(vanilla_cnn(32, "tanh")) ==
        "conv8-circular tanh maxpool4 31x(conv8-circular tanh) flatten");
  // Every kind, keys at their defaults left out and the others shown.
  CHECK(label_value(json(R"([
      {"kind": "conv2d", "channels": 16, "kernel": 5, "stride": 2, "padding": "valid"},
      {"kind": "conv2d", "channels": 16, "kernel": 3, "stride": 1, "padding": "same"},
      {"kind": "batch_norm"}, {"kind": "prelu"}, {"kind": "max_pool", "kernel": 3, "stride": 2},
      {"kind": "avg_pool"}, {"kind": "global_avg_pool"}, {"kind": "flatten"},
      {"kind": "dense", "units": 64}, {"kind": "layer_norm"},
      {"kind": "residual", "scale": "rezero",
       "layers": [{"kind": "dense", "units": 64}, {"kind": "activation", "activation": "relu"}]},
      {"kind": "residual", "layers": [{"kind": "dense", "units": 64}]}])")) ==
        "conv16k5s2-valid conv16 bn prelu maxpool3s2 avgpool2 gap flatten dense64 ln "
        "res(dense64 relu)*rezero res(dense64)");
  // Folding takes the block that covers most, and single tokens too.
  CHECK(layers_label(json(R"([{"kind": "dense", "units": 4}, {"kind": "dense", "units": 4},
                              {"kind": "dense", "units": 4}, {"kind": "flatten"}])")) ==
        "3xdense4 flatten");
  // Other values keep their compact JSON; long objects are spelled key=value.
  CHECK(label_value(json("[4,6]")) == "[4,6]");
  CHECK(label_value(json(R"({"kind":"normal","mean":0,"std":0.1})")) ==
        R"({"kind":"normal","mean":0,"std":0.1})");
  CHECK(label_value(json(R"({"every": 2, "scale": "inv_sqrt_blocks", "note": "a long object"})")) ==
        "{every=2 scale=inv_sqrt_blocks note=a long object}");
}

TEST_CASE("different values that would read the same get their place in the list",
          "[sweep][label]") {
  const Json a = json(R"([{"kind": "dense", "units": 8},
                          {"kind": "activation", "activation": "leaky_relu", "slope": 0.1}])");
  const Json b = json(R"([{"kind": "dense", "units": 8},
                          {"kind": "activation", "activation": "leaky_relu", "slope": 0.3}])");
  const Json c = json(R"([{"kind": "dense", "units": 8}])");
  CHECK(distinct_labels({a, b, c, a}) ==
        std::vector<std::string>{"dense8 leaky_relu#1", "dense8 leaky_relu#2", "dense8",
                                 "dense8 leaky_relu#1"});
  CHECK(distinct_labels({Json("relu"), Json(0.5), Json("relu")}) ==
        std::vector<std::string>{"relu", "0.5", "relu"});
}

TEST_CASE("a model.layers sweep: short labels in the plan, runs.csv and the report",
          "[sweep][label][report]") {
  TempDir dir("layers-label");
  const std::string leaky = R"([{"kind": "dense", "units": 8},
      {"kind": "activation", "activation": "leaky_relu", "slope": SLOPE},
      {"kind": "dense", "units": 8}, {"kind": "activation", "activation": "leaky_relu",
       "slope": SLOPE}])";
  const auto with_slope = [&](const std::string& s) {
    std::string t = leaky;
    for (std::size_t at; (at = t.find("SLOPE")) != std::string::npos;) t.replace(at, 5, s);
    return t;
  };
  write_text(dir.file("sweep.json"), R"({
    "name": "layers_label", "seed": 3,
    "data": {"kind": "gaussian_mixture", "dim": 4, "classes": 3, "train_size": 64, "probe_size": 16},
    "model": {"layers": [{"kind": "dense", "units": 8}], "init": "he_normal"},
    "train": {"steps": 4, "batch_size": 16}, "log": {"every": 2},
    "sweep": {"model.layers": [)" + with_slope("0.1") + ", " + with_slope("0.3") + R"(,
      [{"kind": "dense", "units": 8}, {"kind": "activation", "activation": "tanh"}]]}})");
  const SweepPlan plan = expand_sweep(read_json_file(dir.file("sweep.json")), dir.file("sweep.json"));
  REQUIRE(plan.runs.size() == 3);
  CHECK(plan.runs[0].label == "layers=2x(dense8 leaky_relu)#1");
  CHECK(plan.runs[1].label == "layers=2x(dense8 leaky_relu)#2");
  CHECK(plan.runs[2].label == "layers=dense8 tanh");

  const CliResult shown = gradflow_cli("plan " + dir.file("sweep.json"));
  INFO(shown.output);
  REQUIRE(shown.code == 0);
  CHECK(contains(shown.output, "2x(dense8 leaky_relu)#2"));
  CHECK_FALSE(contains(shown.output, R"("kind")"));

  const CliResult run = gradflow_cli("run " + dir.file("sweep.json") + " --out " + dir.file("out") + " -q");
  INFO(run.output);
  REQUIRE(run.code == 0);
  const std::string runs_csv = read_text(dir.file("out/runs.csv"));
  CHECK(contains(runs_csv, ",layers=dense8 tanh,"));
  CHECK(contains(runs_csv, R"(""kind"")"));  // the model.layers column keeps the value itself

  const CliResult report = gradflow_cli("report " + dir.file("out") + " -q");
  INFO(report.output);
  REQUIRE(report.code == 0);
  const std::string page = read_text(dir.file("out/report.html"));
  // Heatmap rows, the swept-values list and the run table name the stacks, never their JSON.
  CHECK(contains(page, "2x(dense8 leaky_relu)#1"));
  CHECK(contains(page, "2x(dense8 leaky_relu)#2"));
  CHECK(contains(page, ">dense8 tanh<"));
  CHECK_FALSE(contains(page, "&quot;kind&quot;"));
  CHECK_FALSE(contains(page, "{\"kind\""));
}

TEST_CASE("heatmap row labels too long to show drop the words they share, then their end",
          "[report][label]") {
  svg::Heatmap m;
  m.x_labels = {"he_normal"};
  for (int depth : {8, 16, 32})
    m.y_labels.push_back(label_value(vanilla_cnn(depth, "relu")));
  m.values.assign(3, {0.5});
  const std::string page = svg::heatmap(m);
  INFO(page);
  // "conv8-circular relu maxpool4 " is common to all three: the rows read from the next word.
  const std::string ellipsis = "\xE2\x80\xA6";
  for (const char* depth : {"7x", "15x", "31x"})
    CHECK(contains(page, "</title>" + ellipsis + depth + "(conv8-circular relu) flatten</text>"));
  // Still too long without the shared words: also cut from the end.
  svg::Heatmap longer = m;
  longer.y_labels = {"a " + std::string(50, 'x'), "a " + std::string(50, 'y')};
  longer.values.assign(2, {0.5});
  CHECK(contains(svg::heatmap(longer), "</title>" + ellipsis + std::string(39, 'y') + ellipsis + "</text>"));
  // The whole label is the row's hover title.
  CHECK(contains(page, "<title>conv8-circular relu maxpool4 15x(conv8-circular relu) flatten</title>"));
  // Labels that fit are drawn as they are, with no title.
  svg::Heatmap short_rows = m;
  short_rows.x_labels = {"he"};
  short_rows.y_labels = {"relu", "tanh", "conv8 relu"};
  const std::string plain = svg::heatmap(short_rows);
  CHECK(contains(plain, ">conv8 relu<"));
  CHECK_FALSE(contains(plain, "<title>"));
}
