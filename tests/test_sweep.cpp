// Sweep expansion: run counts and order for grids, zip groups and seeds; dotted keys reaching
// nested config keys; stable run ids; bad entries named by their sweep path; sharding; and
// `gradflow plan` end to end.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>

#include "config/config.hpp"
#include "config/config_reader.hpp"
#include "base/errors.hpp"
#include "support.hpp"
#include "config/sweep.hpp"

using namespace gradflow;
using Catch::Matchers::Contains;

namespace {

// A small valid config with the given sweep section (JSON text) spliced in.
Json with_sweep(const std::string& sweep) {
  return parse_json_text(R"({
    "name": "sw", "seed": 7,
    "data": {"kind": "gaussian_mixture", "train_size": 64, "probe_size": 16, "dim": 4,
             "classes": 3},
    "model": {"depth": 2, "width": 8, "activation": "tanh", "init": "xavier_normal"},
    "train": {"steps": 5, "batch_size": 16},
    "sweep": )" + sweep + "}",
                         "test.json");
}

SweepPlan expand(const std::string& sweep) { return expand_sweep(with_sweep(sweep), "test.json"); }

InputError expand_error(const std::string& sweep) {
  try {
    expand(sweep);
  } catch (const InputError& e) {
    return e;
  }
  FAIL("expected an InputError for sweep " << sweep);
  throw;  // unreachable
}

std::vector<std::string> labels(const SweepPlan& plan) {
  std::vector<std::string> out;
  for (const RunSpec& run : plan.runs) out.push_back(run.label);
  return out;
}

}  // namespace

TEST_CASE("sweep run counts: grid, zip, seeds and combinations", "[sweep]") {
  const auto [sweep, count] = GENERATE(table<std::string, std::size_t>({
      {R"({"model.depth": [1, 2, 3]})", 3},
      {R"({"model.depth": [1, 2, 3], "model.activation": ["relu", "tanh"]})", 6},
      {R"({"zip": [{"model.activation": ["relu", "tanh"], "model.init": ["he_normal", "xavier_normal"]}]})",
       2},
      {R"({"seeds": 4})", 4},
      {R"({"seeds": [3, 9, 100]})", 3},
      {R"({"seed": [1, 2]})", 2},
      {R"({"model.depth": [1, 2, 3], "seeds": 2})", 6},
      {R"({"model.depth": [1, 2, 3], "zip": [{"model.activation": ["relu", "tanh"], "model.init": ["he_normal", "xavier_normal"]}, {"train.lr": [0.1, 0.2, 0.3, 0.4]}], "seeds": [1, 2]})",
       48},
      {R"({})", 1},
  }));
  const SweepPlan plan = expand(sweep);
  INFO(sweep << " -> " << plan.runs.size() << " runs");
  REQUIRE(plan.is_sweep);
  REQUIRE(plan.runs.size() == count);
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    REQUIRE(plan.runs[i].index == i);
    REQUIRE(plan.runs[i].config.name == "sw");
    REQUIRE(plan.runs[i].config.sweep.is_null());
    REQUIRE(plan.runs[i].swept.size() == plan.swept_keys.size());
  }
}

TEST_CASE("sweep order: first key slowest, zip axes after the grid, seeds fastest", "[sweep]") {
  const SweepPlan plan = expand(R"({
    "zip": [{"model.activation": ["relu", "sigmoid"], "model.init": ["he_normal", "xavier_normal"]}],
    "model.depth": [3, 5],
    "seeds": 2
  })");
  const std::vector<std::string> keys = {"model.depth", "model.activation", "model.init", "seed"};
  REQUIRE(plan.swept_keys == keys);
  const std::vector<std::string> expected = {
      "depth=3/activation=relu/init=he_normal/seed=7",
      "depth=3/activation=relu/init=he_normal/seed=8",
      "depth=3/activation=sigmoid/init=xavier_normal/seed=7",
      "depth=3/activation=sigmoid/init=xavier_normal/seed=8",
      "depth=5/activation=relu/init=he_normal/seed=7",
      "depth=5/activation=relu/init=he_normal/seed=8",
      "depth=5/activation=sigmoid/init=xavier_normal/seed=7",
      "depth=5/activation=sigmoid/init=xavier_normal/seed=8",
  };
  REQUIRE(labels(plan) == expected);
  const RunSpec& last = plan.runs.back();
  REQUIRE(last.config.model.depth == 5);
  REQUIRE(last.config.model.activation == Activation::sigmoid);
  REQUIRE(last.config.model.init == WeightInit::xavier_normal);
  REQUIRE(last.config.seed == 8);
  REQUIRE(last.swept[0].key == "model.depth");
  REQUIRE(last.swept[0].value == 5);

  const SweepPlan listed = expand(R"({"model.depth": [2], "seeds": [11, 4]})");
  REQUIRE(listed.runs[0].config.seed == 11);
  REQUIRE(listed.runs[1].config.seed == 4);
}

TEST_CASE("sweep keys reach nested config keys, values may be any JSON", "[sweep]") {
  const SweepPlan plan = expand(R"({
    "train.lr": [0.5],
    "model.bias_init": [{"kind": "normal", "mean": 0, "std": 0.1}, 0.25],
    "data.kind": ["teacher_student"],
    "model.width": [[4, 6]]
  })");
  REQUIRE(plan.runs.size() == 2);
  const Config& a = plan.runs[0].config;
  REQUIRE(a.train.lr == 0.5);
  REQUIRE(a.model.bias_init.kind == BiasInit::normal);
  REQUIRE(a.model.bias_init.std == 0.1);
  REQUIRE(a.data.kind == DataKind::teacher_student);
  REQUIRE(a.model.width == std::vector<long>{4, 6});
  REQUIRE(a.train.loss == Loss::mse);  // the regression default, as if written in the file
  const Config& b = plan.runs[1].config;
  REQUIRE(b.model.bias_init.kind == BiasInit::constant);
  REQUIRE(b.model.bias_init.value == 0.25);
  INFO(plan.runs[0].label);
  REQUIRE(
      plan.runs[0].label ==
      R"(lr=0.5/bias_init={"kind":"normal","mean":0,"std":0.1}/kind=teacher_student/width=[4,6])");
  REQUIRE(plan.runs[1].label == "lr=0.5/bias_init=0.25/kind=teacher_student/width=[4,6]");
}

TEST_CASE("labels use the full key when two swept keys end alike", "[sweep]") {
  const SweepPlan plan =
      expand(R"({"model.activation": ["relu"], "data.teacher_activation": ["tanh"],
                  "data.seed": [1], "seeds": 1})");
  REQUIRE(plan.runs[0].label == "activation=relu/teacher_activation=tanh/data.seed=1/seed=7");
}

TEST_CASE("a config without a sweep is one run", "[sweep]") {
  Json without = with_sweep("null");
  without.erase("sweep");
  for (const Json& d : {with_sweep("null"), without}) {
    const SweepPlan plan = expand_sweep(d, "test.json");
    REQUIRE_FALSE(plan.is_sweep);
    REQUIRE(plan.name == "sw");
    REQUIRE(plan.runs.size() == 1);
    REQUIRE(plan.runs[0].label.empty());
    REQUIRE(plan.runs[0].swept.empty());
    REQUIRE(plan.swept_keys.empty());
    REQUIRE(plan.runs[0].id == run_id(parse_config(d, "test.json")));
  }
}

TEST_CASE("run ids: stable, 12 hex digits, change with any value but not with the name",
          "[sweep]") {
  const std::string sweep = R"({"model.depth": [2, 3], "train.lr": [0.1, 0.2], "seeds": 2})";
  const SweepPlan a = expand(sweep), b = expand(sweep);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < a.runs.size(); ++i) {
    INFO(a.runs[i].id);
    REQUIRE(a.runs[i].id == b.runs[i].id);
    REQUIRE(a.runs[i].id.size() == 12);
    REQUIRE(a.runs[i].id.find_first_not_of("0123456789abcdef") == std::string::npos);
    ids.insert(a.runs[i].id);
  }
  REQUIRE(ids.size() == a.runs.size());

  Json renamed = with_sweep(sweep);
  renamed["name"] = "another-name";
  const SweepPlan c = expand_sweep(renamed, "other/place.json");
  REQUIRE(c.name == "another-name");
  for (std::size_t i = 0; i < a.runs.size(); ++i) REQUIRE(c.runs[i].id == a.runs[i].id);

  // The same point reached by a different sweep has the same id.
  const SweepPlan d = expand(R"({"train.lr": [0.2], "model.depth": [3], "seeds": [8]})");
  REQUIRE(d.runs[0].id == a.runs.back().id);

  Config base = parse_config(with_sweep("null"), "test.json");
  const std::string id = run_id(base);
  Config changed = base;
  changed.train.eps *= 1.0000001;
  REQUIRE(run_id(changed) != id);
  changed = base;
  changed.name = "x";
  changed.source = "elsewhere.json";
  REQUIRE(run_id(changed) == id);
}

TEST_CASE("bad sweep entries are named by their sweep path", "[sweep]") {
  const auto [sweep, path, fragment] = GENERATE(table<std::string, std::string, std::string>({
      {R"({"model.actvation": ["relu"]})", "/sweep/model.actvation/0",
       R"(model.actvation = "relu": /model: unknown key "actvation"; did you mean "activation"?)"},
      {R"({"model.depth": []})", "/sweep/model.depth",
       "expected a non-empty list of values, got []"},
      {R"({"model.depth": 3})", "/sweep/model.depth", "expected a non-empty list of values, got 3"},
      {R"({"model.depth": [10, -3, 40]})", "/sweep/model.depth/1",
       "model.depth = -3: /model/depth: expected an integer >= 1, got -3"},
      {R"({"model.activation": ["relu", "tanh"], "model.depth": [10, -3]})", "/sweep/model.depth/1",
       "model.depth = -3: /model/depth: expected an integer >= 1"},
      {R"({"zip": [{"model.activation": ["relu", "tanh"], "model.init": ["he_normal"]}]})",
       "/sweep/zip/0",
       "zip group 0: lists of unequal length: model.activation has 2 values, "
       "model.init has 1"},
      {R"({"zip": [{"model.activation": ["relu", "tanh"], "model.init": ["he_normal", "xavier_nrmal"]}]})",
       "/sweep/zip/0/model.init/1",
       R"(model.activation = "tanh", model.init = "xavier_nrmal": /model/init: expected one of)"},
      {R"({"model.depth": [2], "zip": [{"model.depth": [3]}]})", "/sweep/zip/0/model.depth",
       "\"model.depth\" is swept twice (also at /sweep/model.depth)"},
      {R"({"zip": [{"train.lr": [1]}, {"train.lr": [2]}]})", "/sweep/zip/1/train.lr",
       "is swept twice (also at /sweep/zip/0/train.lr)"},
      {R"({"model.bias_init": [0], "model.bias_init.value": [1]})", "/sweep/model.bias_init.value",
       "overlaps \"model.bias_init\""},
      {R"({"seeds": 0})", "/sweep/seeds", "expected an integer >= 1, got 0"},
      {R"({"seeds": []})", "/sweep/seeds", "expected a non-empty list, got []"},
      {R"({"seeds": [1, -2]})", "/sweep/seeds/1", "expected an integer >= 0, got -2"},
      {R"({"seeds": "3"})", "/sweep/seeds", "or a non-empty list of integer seeds"},
      {R"({"seeds": 2, "seed": [1, 2]})", "/sweep/seeds", "\"seed\" cannot also be swept"},
      {R"({"model.depth.x": [1]})", "/sweep/model.depth.x",
       "model.depth is 2, not an object, so it has no key \"x\""},
      {R"({"model..depth": [1]})", "/sweep/model..depth", "empty segment"},
      {R"({"name": ["a", "b"]})", "/sweep/name", "cannot be swept"},
      {R"({"zip": {"train.lr": [1]}})", "/sweep/zip", "expected a non-empty list"},
      {R"({"zip": [{}]})", "/sweep/zip/0", "expected an object of dotted keys"},
      {R"({"model.depth": [2, 2]})", "/sweep",
       "runs 0 (depth=2) and 1 (depth=2) resolve to the same config"},
      {R"({"data.kind": ["spirals"]})", "/sweep/data.kind/0",
       R"(data.kind = "spirals": /data/dim: expected 2 (spirals are 2-D; leave dim out), got 4)"},
      {R"({"model.depth": [2, 3], "model.width": [[8, 8]]})", "/sweep",
       "run 1 (depth=3/width=[8,8]) is invalid, though each of its values is valid on its own: "
       "/model/width: expected 3 widths"},
      {R"([1, 2])", "/sweep", "expected an object, got [1,2]"},
      {R"({"seeds": 1000000000})", "/sweep", "expands to 1000000000 runs"},
  }));
  const InputError e = expand_error(sweep);
  INFO(sweep << "\n-> " << e.what());
  REQUIRE(e.where() == "test.json");
  REQUIRE(e.path() == path);
  REQUIRE_THAT(e.message(), Contains(fragment));
}

TEST_CASE("the formatted error reads as one line naming file, sweep entry and cause", "[sweep]") {
  const InputError e = expand_error(R"({"model.depth": [10, -3, 40]})");
  REQUIRE(std::string(e.what()) ==
          "test.json: /sweep/model.depth/1: model.depth = -3: /model/depth: expected an integer "
          ">= 1, got -3");
}

TEST_CASE("too many runs are refused quickly, before anything is built", "[sweep]") {
  const auto [sweep, count] = GENERATE(table<std::string, std::string>({
      {R"({"seeds": 1000000000})", "1000000000 runs"},
      {R"({"model.depth": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "train.lr": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "seeds": 1001})",
       "100100 runs (10 x 10 x 1001)"},
      {R"({"model.depth": [1, 2, 3], "seeds": 9223372036854775807})", "more than 2^64 runs"},
      {R"({"model.depth": [1, 2], "seeds": 9223372036854775807})", "18446744073709551614 runs"},
  }));
  const auto start = std::chrono::steady_clock::now();
  const InputError e = expand_error(sweep);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(e.what() << " (" << seconds << " s)");
  REQUIRE(e.path() == "/sweep");
  REQUIRE_THAT(e.message(), Contains("expands to " + count));
  REQUIRE_THAT(e.message(), Contains("more than the limit of 100000"));
  REQUIRE(seconds < 0.5);
}

TEST_CASE("shards partition the runs: disjoint, complete, in order", "[sweep]") {
  const SweepPlan plan =
      expand(R"({"model.depth": [1, 2, 3], "train.lr": [0.1, 0.2], "seeds": 2})");
  const std::size_t n = GENERATE(1, 2, 5, 12, 13);
  std::multiset<std::size_t> seen;
  for (std::size_t i = 0; i < n; ++i) {
    const std::vector<RunSpec> shard = shard_runs(plan.runs, i, n);
    for (std::size_t k = 0; k < shard.size(); ++k) {
      INFO("shard " << i << " of " << n << ", run " << shard[k].index);
      REQUIRE(shard[k].index % n == i);
      if (k) REQUIRE(shard[k].index > shard[k - 1].index);
      REQUIRE(shard[k].id == plan.runs[shard[k].index].id);
      seen.insert(shard[k].index);
    }
  }
  REQUIRE(seen.size() == plan.runs.size());
  REQUIRE(std::set<std::size_t>(seen.begin(), seen.end()).size() == plan.runs.size());
}

TEST_CASE("gradflow plan prints the runs and their ids, and names a bad sweep entry",
          "[sweep][cli]") {
  test::TempDir dir("plan");
  Json doc =
      with_sweep(R"({"model.activation": ["relu", "tanh"], "model.depth": [2, 3], "seeds": 2})");
  test::write_text(dir.file("s.json"), doc.dump(2));
  const SweepPlan plan = expand_sweep(doc, dir.file("s.json"));

  const test::CliResult ok = test::gradflow_cli("plan " + dir.file("s.json"));
  INFO(ok.output);
  REQUIRE(ok.code == 0);
  REQUIRE_THAT(ok.output, Contains("sw: sweep, 8 runs"));
  REQUIRE_THAT(ok.output, Contains("model.activation"));
  for (const RunSpec& run : plan.runs) REQUIRE_THAT(ok.output, Contains(run.id));
  // depth 2 / 3 with width 8 on dim 4, 3 classes: 139 / 211 parameters, 5 steps each.
  REQUIRE_THAT(ok.output,
               Contains("work: 8 runs, 7000 parameter-steps in total (largest run 1055)"));
  REQUIRE(std::distance(std::filesystem::directory_iterator(dir.path),
                        std::filesystem::directory_iterator{}) == 1);  // nothing written

  const test::CliResult overridden = test::gradflow_cli("plan " + dir.file("s.json") + " --set sweep.seeds=3");
  INFO(overridden.output);
  REQUIRE(overridden.code == 0);
  REQUIRE_THAT(overridden.output, Contains("12 runs"));

  const test::CliResult single = test::gradflow_cli("plan " + dir.file("s.json") + " --set sweep=null");
  INFO(single.output);
  REQUIRE(single.code == 0);
  REQUIRE_THAT(single.output, Contains("1 run"));

  const test::CliResult bad =
      test::gradflow_cli("plan " + dir.file("s.json") + " --set 'sweep={\"model.depth\": [2, -3]}'");
  INFO(bad.output);
  REQUIRE(bad.code == 1);
  REQUIRE_THAT(bad.output,
               Contains(dir.file("s.json") + " (after --set sweep={\"model.depth\": [2, -3]}): "
                                             "/sweep/model.depth/1: model.depth = -3: "
                                             "/model/depth: expected an integer >= 1"));
}
