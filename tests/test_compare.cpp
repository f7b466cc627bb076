// compare and summarize over results folders this file writes itself: a single run and small
// sweeps (sweep.json, runs.csv, layers.csv, steps.csv, runs/<id>/), then copies of them with
// one thing changed. Also the gradflow binary's exit codes for compare.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "analysis/compare.hpp"
#include "base/csv_table.hpp"
#include "base/errors.hpp"
#include "analysis/summarize.hpp"
#include "support.hpp"
#include "io/writers.hpp"

using namespace gradflow;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
namespace fs = std::filesystem;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- fixtures ---------------------------------------------------------------------------

struct FixtureRun {
  std::string id;
  std::vector<std::string> swept;  // one value per swept key
  double grad_ratio_init = -1;     // grad_ratio_log10_init in runs.csv
  std::string verdict = "healthy";  // as written; every reader judges it again
  int hidden_layers = 2;
};

std::vector<LayerRecord> fixture_layers(long step, int hidden_layers, double scale) {
  std::vector<LayerRecord> layers;
  for (int l = 1; l <= hidden_layers + 1; ++l) {
    LayerRecord r;
    r.step = step;
    r.layer = l;
    r.output = l == hidden_layers + 1;
    r.fan_in = 4;
    r.fan_out = r.output ? 3 : 4;
    r.grad_w_norm = scale * (0.1 * l + 0.001 * double(step) + 0.3);
    r.grad_b_norm = scale * 0.01 * l;
    r.delta_norm = scale * (0.2 + 0.05 * l);
    r.weight_norm = 1.5 + 0.25 * l;
    r.bias_norm = 0;
    r.update_ratio = step == 0 ? kNaN : 1e-3 * l;  // NaN at step 0, as training writes it
    r.preact_mean = 0.01 * l;
    r.preact_std = 0.9;
    r.act_mean = 0.3;
    r.act_std = 0.4;
    if (!r.output) {  // the output layer has no nonlinearity: NaN fractions
      r.dead_fraction = 0.25;
      r.inactive_fraction = 0.25;
      r.saturated_fraction = 0;
    }
    layers.push_back(r);
  }
  return layers;
}

std::vector<StepRecord> fixture_steps(double scale) {
  std::vector<StepRecord> steps;
  for (long step : {0L, 10L, 20L}) {
    StepRecord s;
    s.step = step;
    s.lr = 0.05;
    s.loss = scale * (1.0 - 0.02 * double(step));
    s.accuracy = 0.3 + 0.01 * double(step);
    s.probe_loss = s.loss + 0.1;
    s.probe_accuracy = s.accuracy - 0.05;
    s.grad_norm = scale * 0.7;
    steps.push_back(s);
  }
  return steps;
}

// A single-run folder as `gradflow run` writes it.
void write_run_folder(const std::string& dir, double scale, int hidden_layers = 2) {
  fs::create_directories(dir);
  std::string layers = csv_header(kLayerColumns), steps = csv_header(kStepColumns);
  for (long step : {0L, 10L, 20L})
    for (const LayerRecord& r : fixture_layers(step, hidden_layers, scale))
      append_layer_row(layers, "", r);
  for (const StepRecord& s : fixture_steps(scale)) append_step_row(steps, "", s);
  RunSummary summary;
  summary.steps_done = 20;
  summary.final_loss = scale * 0.6;
  summary.final_accuracy = 0.5;
  summary.grad_ratio_log10_init = -0.25 * scale;
  summary.parameters = 67;
  test::write_text(dir + "/config.json", "{}\n");
  test::write_text(dir + "/summary.json", summary_to_json(summary).dump(2) + "\n");
  test::write_text(dir + "/layers.csv", layers);
  test::write_text(dir + "/steps.csv", steps);
}

std::string label_of(const std::vector<std::string>& keys, const FixtureRun& run) {
  std::string label;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const std::string& key = keys[k];
    if (!label.empty()) label += '/';
    label += key.substr(key.rfind('.') + 1);
    label += '=';
    label += run.swept[k];
  }
  return label;
}

// A sweep folder in the layout the sweep writer produces.
void write_sweep_folder(const std::string& dir, const std::vector<std::string>& keys,
                        const std::vector<FixtureRun>& runs) {
  fs::create_directories(dir);
  nlohmann::ordered_json manifest = {{"schema_version", 1},
                                     {"name", "fixture"},
                                     {"swept_keys", keys},
                                     {"runs", nlohmann::json::array()}};
  std::string runs_csv = "run_id,label";
  for (const std::string& k : keys) runs_csv += "," + k;
  runs_csv +=
      ",status,verdict,verdicts,final_loss,final_accuracy,final_probe_loss,"
      "final_probe_accuracy,grad_ratio_log10_init,grad_ratio_log10_final,"
      "delta_ratio_log10_init,delta_ratio_log10_final,max_dead_fraction_init,"
      "max_dead_fraction_final,units_died_fraction,diverged_step,max_grad_norm,parameters\n";
  std::string layers = csv_header(kLayerColumns, {"run_id"});
  std::string steps = csv_header(kStepColumns, {"run_id"});
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const FixtureRun& run = runs[i];
    const double scale = 1.0 + 0.5 * double(i);
    const std::string label = label_of(keys, run);
    nlohmann::ordered_json swept;
    for (std::size_t k = 0; k < keys.size(); ++k) swept[keys[k]] = run.swept[k];
    manifest["runs"].push_back({{"index", i}, {"id", run.id}, {"label", label}, {"swept", swept}});

    runs_csv += run.id + "," + label;
    for (const std::string& v : run.swept) runs_csv += "," + v;
    runs_csv += ",completed," + run.verdict + "," + run.verdict;
    for (double v : {0.6 * scale, 0.5, 0.7 * scale, 0.45, run.grad_ratio_init, -0.5 * scale, -0.1,
                     -0.2, 0.25, 0.25, 0.0})
      (runs_csv += ',') += format_number(v);
    runs_csv += ",," + format_number(0.9 * scale) + ",67\n";  // diverged_step empty: none

    const std::string prefix = run.id + ",";
    for (long step : {0L, 10L, 20L})
      for (const LayerRecord& r : fixture_layers(step, run.hidden_layers, scale))
        append_layer_row(layers, prefix, r);
    for (const StepRecord& s : fixture_steps(scale)) append_step_row(steps, prefix, s);
    write_run_folder(dir + "/runs/" + run.id, scale, run.hidden_layers);
  }
  test::write_text(dir + "/sweep.json", manifest.dump(2) + "\n");
  test::write_text(dir + "/runs.csv", runs_csv);
  test::write_text(dir + "/layers.csv", layers);
  test::write_text(dir + "/steps.csv", steps);
}

const std::vector<std::string> kKeys = {"model.depth", "seed"};
const std::vector<FixtureRun> kThreeRuns = {
    {"0000000000a1", {"2", "1"}, -0.5, "healthy", 2},
    {"0000000000b2", {"2", "2"}, -0.6, "healthy", 2},
    {"0000000000c3", {"3", "1"}, -1.5, "healthy", 3},
};

// ---- editing copies ---------------------------------------------------------------------

void write_table(const CsvTable& t, const std::string& path) {
  std::string text;
  const auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) (text += i ? "," : "") += cells[i];
    text += '\n';
  };
  line(t.header);
  for (const auto& row : t.rows) line(row);
  test::write_text(path, text);
}

using Where = std::vector<std::pair<std::string, std::string>>;

bool row_matches(const CsvTable& t, const std::vector<std::string>& row, const Where& where) {
  for (const auto& [column, value] : where)
    if (row[require_column(t, column)] != value) return false;
  return true;
}

// Sets `column` in the one row matching every (column, value) of `where`.
void set_cell(const std::string& path, const Where& where, const std::string& column,
              const std::string& value) {
  CsvTable t = read_csv_table(path);
  int hits = 0;
  for (auto& row : t.rows)
    if (row_matches(t, row, where)) row[require_column(t, column)] = value, ++hits;
  REQUIRE(hits == 1);
  write_table(t, path);
}

std::string get_cell(const std::string& path, const Where& where, const std::string& column) {
  const CsvTable t = read_csv_table(path);
  for (const auto& row : t.rows)
    if (row_matches(t, row, where)) return row[require_column(t, column)];
  FAIL("no such row in " << path);
  return "";
}

void remove_rows(const std::string& path, const Where& where) {
  CsvTable t = read_csv_table(path);
  std::erase_if(t.rows, [&](const auto& row) { return row_matches(t, row, where); });
  write_table(t, path);
}

void remove_run(const std::string& sweep, const std::string& id) {
  for (const char* file : {"/runs.csv", "/layers.csv", "/steps.csv"})
    remove_rows(sweep + file, {{"run_id", id}});
  fs::remove_all(sweep + "/runs/" + id);
}

struct SweepPair {
  test::TempDir dir{"compare"};
  std::string baseline = dir.file("baseline");
  std::string current = dir.file("new");
  SweepPair() {
    write_sweep_folder(baseline, kKeys, kThreeRuns);
    fs::copy(baseline, current, fs::copy_options::recursive);
  }
};

std::string scaled(const std::string& cell, double factor) {
  return format_number(*parse_number(cell) * factor);
}

// ---- the binary -------------------------------------------------------------------------

}  // namespace

// ---- CSV tables -------------------------------------------------------------------------

TEST_CASE("quoted cells may hold commas and quotes, as runs.csv writes swept objects",
          "[compare]") {
  const CsvTable t = parse_csv_table(
      "run_id,model.bias_init,status\nab12,\"{\"\"kind\"\":\"\"normal\"\",\"\"std\"\":0.1}\",completed\n",
      "runs.csv");
  REQUIRE(t.rows.size() == 1);
  REQUIRE(t.rows[0].size() == 3);
  CHECK(t.rows[0][1] == "{\"kind\":\"normal\",\"std\":0.1}");
  CHECK(t.rows[0][2] == "completed");
  CHECK(split_csv_line(" a , \" b,c \" ,,d") == std::vector<std::string>{"a", "b,c", "", "d"});
}

TEST_CASE("csv tables keep cells as text and name file and line for ragged rows", "[compare]") {
  const CsvTable t = parse_csv_table("a,b,c\r\n1,x,nan\n\n2,y,-inf\n", "t.csv");
  REQUIRE(t.header == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(t.rows.size() == 2);
  REQUIRE(t.rows[1] == std::vector<std::string>{"2", "y", "-inf"});
  REQUIRE(t.lines == std::vector<std::size_t>{2, 4});
  REQUIRE(find_column(t, "c") == 2u);
  REQUIRE_FALSE(find_column(t, "d"));
  REQUIRE_THROWS_WITH(require_column(t, "d"), Contains("t.csv") && Contains("\"d\""));
  REQUIRE(std::isinf(number_at(t, 1, 2)));
  REQUIRE_THROWS_WITH(number_at(t, 0, 1), Contains("t.csv") && Contains("line 2"));

  REQUIRE_THROWS_WITH(parse_csv_table("a,b\n1,2\n3\n", "r.csv"),
                      Contains("r.csv") && Contains("line 3") && Contains("1 fields"));
  REQUIRE_THROWS_WITH(parse_csv_table("", "e.csv"), Contains("e.csv") && Contains("empty"));
  REQUIRE_THROWS_WITH(parse_csv_table("a,a\n", "d.csv"), Contains("appears twice"));
  REQUIRE_THROWS_WITH(read_csv_table("/nonexistent/x.csv"), Contains("/nonexistent/x.csv"));
}

TEST_CASE("numbers: shortest round trip, nan/inf/-inf, empty as NaN, text refused", "[compare]") {
  REQUIRE(*parse_number("0.1") == 0.1);
  REQUIRE(*parse_number("-2.5e-7") == -2.5e-7);
  REQUIRE(*parse_number("+3") == 3);
  REQUIRE(std::isnan(*parse_number("nan")));
  REQUIRE(std::isnan(*parse_number("")));
  REQUIRE(*parse_number("inf") == kInf);
  REQUIRE(*parse_number("-inf") == -kInf);
  REQUIRE(*parse_number("1e999") == kInf);  // overflow still reads as a number
  REQUIRE(*parse_number("1e-999") == 0);
  REQUIRE_FALSE(parse_number("relu"));
  REQUIRE_FALSE(parse_number("1.5x"));
  REQUIRE_FALSE(parse_number("0000000000a1"));
  for (double v : {0.1, 1.0 / 3.0, 6.02e23, -1e-300}) REQUIRE(*parse_number(format_number(v)) == v);
}

TEST_CASE("values_match: tolerance, NaN and infinities", "[compare]") {
  const CompareOptions o{1e-6, 1e-9};
  REQUIRE(values_match(1.0, 1.0 + 5e-7, o));
  REQUIRE_FALSE(values_match(1.0, 1.0 + 5e-6, o));
  REQUIRE(values_match(0.0, 5e-10, o));  // atol near zero
  REQUIRE_FALSE(values_match(0.0, 5e-9, o));
  REQUIRE(values_match(kNaN, kNaN, o));
  REQUIRE_FALSE(values_match(kNaN, 1.0, o));
  REQUIRE_FALSE(values_match(1.0, kNaN, o));
  REQUIRE(values_match(kInf, kInf, o));
  REQUIRE(values_match(-kInf, -kInf, o));
  REQUIRE_FALSE(values_match(kInf, -kInf, o));
  REQUIRE_FALSE(values_match(kInf, 1e308, o));  // atol + rtol * inf would accept anything
  REQUIRE_FALSE(values_match(1e308, kInf, o));
}

// ---- compare ----------------------------------------------------------------------------

TEST_CASE("an identical copy is within tolerance", "[compare]") {
  SweepPair p;
  const CompareReport r = compare_results(p.baseline, p.current, {});
  INFO(r.drifts.size() << " drifts");
  REQUIRE(r.runs_compared == 3);
  REQUIRE(r.runs_drifted == 0);
  REQUIRE(r.drifts.empty());
  REQUIRE(r.missing_in_new.empty());
  REQUIRE(r.only_in_new.empty());
  REQUIRE(r.values_compared > 100);
  REQUIRE(compare_outcome(r) == CompareOutcome::within_tolerance);

  // A run folder inside the sweep is a single run.
  const std::string run = p.baseline + "/runs/0000000000b2";
  const CompareReport single = compare_results(run, p.current + "/runs/0000000000b2", {});
  REQUIRE(single.runs_compared == 1);
  REQUIRE(single.drifts.empty());
}

TEST_CASE("a value perturbed beyond tolerance is reported at its run, column, step, layer",
          "[compare]") {
  SweepPair p;
  const std::string layers = p.current + "/layers.csv";
  const Where at = {{"run_id", "0000000000b2"}, {"step", "10"}, {"layer", "2"}};
  const std::string before = get_cell(layers, at, "grad_w_norm");
  set_cell(layers, at, "grad_w_norm", scaled(before, 1.01));
  // A smaller drift in the same column: the report keeps the worst and counts both.
  const Where smaller = {{"run_id", "0000000000b2"}, {"step", "20"}, {"layer", "1"}};
  set_cell(layers, smaller, "grad_w_norm", scaled(get_cell(layers, smaller, "grad_w_norm"), 1.001));

  const CompareReport r = compare_results(p.baseline, p.current, {});
  REQUIRE(compare_outcome(r) == CompareOutcome::drifted);
  REQUIRE(r.runs_compared == 3);
  REQUIRE(r.runs_drifted == 1);
  REQUIRE(r.values_drifted == 2);
  REQUIRE(r.drifts.size() == 1);
  const Drift& d = r.drifts.front();
  REQUIRE(d.kind == DriftKind::value);
  REQUIRE(d.run_id == "0000000000b2");
  REQUIRE(d.label == "depth=2/seed=2");
  REQUIRE(d.file == "layers.csv");
  REQUIRE(d.column == "grad_w_norm");
  REQUIRE(d.step == "10");
  REQUIRE(d.layer == "2");
  REQUIRE(d.baseline == before);
  REQUIRE(d.count == 2);
  INFO("rel " << d.rel_diff);
  REQUIRE_THAT(d.rel_diff, WithinRel(0.01, 1e-6));
  REQUIRE_THAT(d.abs_diff, WithinRel(0.01 * *parse_number(before), 1e-6));

  // A looser tolerance accepts it.
  REQUIRE(compare_results(p.baseline, p.current, {0.02, 0}).drifts.empty());
}

TEST_CASE("drifts are sorted by relative size, worst first", "[compare]") {
  SweepPair p;
  set_cell(p.current + "/steps.csv", {{"run_id", "0000000000a1"}, {"step", "20"}}, "loss",
           scaled(get_cell(p.current + "/steps.csv", {{"run_id", "0000000000a1"}, {"step", "20"}},
                           "loss"),
                  1.001));
  set_cell(
      p.current + "/runs.csv", {{"run_id", "0000000000c3"}}, "final_loss",
      scaled(get_cell(p.current + "/runs.csv", {{"run_id", "0000000000c3"}}, "final_loss"), 1.5));
  const CompareReport r = compare_results(p.baseline, p.current, {});
  REQUIRE(r.drifts.size() == 2);
  REQUIRE(r.runs_drifted == 2);
  REQUIRE(r.drifts[0].column == "final_loss");
  REQUIRE(r.drifts[0].file == "runs.csv");
  REQUIRE(r.drifts[0].step.empty());
  REQUIRE(r.drifts[1].column == "loss");
  REQUIRE(r.drifts[1].file == "steps.csv");
  REQUIRE(r.drifts[1].step == "20");
  REQUIRE(r.drifts[1].layer.empty());
}

TEST_CASE("a value perturbed within tolerance is not a drift", "[compare]") {
  SweepPair p;
  const Where at = {{"run_id", "0000000000a1"}, {"step", "0"}, {"layer", "3"}};
  const std::string layers = p.current + "/layers.csv";
  set_cell(layers, at, "delta_norm", scaled(get_cell(layers, at, "delta_norm"), 1 + 1e-8));
  set_cell(p.current + "/runs.csv", {{"run_id", "0000000000c3"}}, "max_grad_norm",
           scaled(get_cell(p.current + "/runs.csv", {{"run_id", "0000000000c3"}}, "max_grad_norm"),
                  1 + 1e-7));
  const CompareReport r = compare_results(p.baseline, p.current, {});
  REQUIRE(r.drifts.empty());
  REQUIRE(compare_outcome(r) == CompareOutcome::within_tolerance);
}

TEST_CASE("a run missing in new fails, a run only in new is a warning", "[compare]") {
  SECTION("missing in new") {
    SweepPair p;
    remove_run(p.current, "0000000000b2");
    const CompareReport r = compare_results(p.baseline, p.current, {});
    REQUIRE(r.runs_compared == 2);
    REQUIRE(r.missing_in_new.size() == 1);
    REQUIRE(r.missing_in_new[0].id == "0000000000b2");
    REQUIRE(r.missing_in_new[0].label == "depth=2/seed=2");
    REQUIRE(r.drifts.empty());
    REQUIRE(compare_outcome(r) == CompareOutcome::runs_missing);
  }
  SECTION("only in new") {
    SweepPair p;
    remove_run(p.baseline, "0000000000c3");
    const CompareReport r = compare_results(p.baseline, p.current, {});
    REQUIRE(r.runs_compared == 2);
    REQUIRE(r.only_in_new.size() == 1);
    REQUIRE(r.only_in_new[0].id == "0000000000c3");
    REQUIRE(compare_outcome(r) == CompareOutcome::within_tolerance);
  }
}

TEST_CASE("NaN matches NaN, NaN against a number is a drift", "[compare]") {
  SweepPair p;  // update_ratio is nan at step 0 in both: no drift (the identical test)
  const Where at = {{"run_id", "0000000000a1"}, {"step", "0"}, {"layer", "1"}};
  REQUIRE(get_cell(p.current + "/layers.csv", at, "update_ratio") == "nan");
  set_cell(p.current + "/layers.csv", at, "update_ratio", "1");
  const CompareReport r = compare_results(p.baseline, p.current, {});
  REQUIRE(r.drifts.size() == 1);
  const Drift& d = r.drifts[0];
  REQUIRE(d.kind == DriftKind::value);
  REQUIRE(d.column == "update_ratio");
  REQUIRE(d.baseline == "nan");
  REQUIRE(d.current == "1");
  REQUIRE(std::isnan(d.abs_diff));
  REQUIRE(drift_severity(d) == kInf);

  // An empty cell is NaN too.
  set_cell(p.current + "/layers.csv", at, "update_ratio", "");
  REQUIRE(compare_results(p.baseline, p.current, {}).drifts.empty());
}

TEST_CASE("a verdict or status change is a drift; a stale verdict cell is not", "[compare]") {
  SweepPair p;
  // Verdicts are judged from the indicators (analysis/rejudge.hpp): a label edited in the
  // file changes nothing, an indicator that crosses a threshold changes the verdict.
  set_cell(p.current + "/runs.csv", {{"run_id", "0000000000b2"}}, "verdict", "exploding");
  REQUIRE(compare_results(p.baseline, p.current, {}).drifts.empty());
  set_cell(p.current + "/runs.csv", {{"run_id", "0000000000c3"}}, "delta_ratio_log10_init", "5");
  const CompareReport r = compare_results(p.baseline, p.current, {});
  REQUIRE(r.drifts.size() == 3);  // verdict, verdicts, and the indicator
  REQUIRE(r.drifts[0].kind == DriftKind::text);
  REQUIRE(r.drifts[0].column == "verdict");
  REQUIRE(r.drifts[0].baseline == "healthy");
  REQUIRE(r.drifts[0].current == "exploding");
  REQUIRE(r.drifts[2].column == "delta_ratio_log10_init");
  REQUIRE(compare_outcome(r) == CompareOutcome::drifted);
  // Judged with other thresholds (--set), both folders alike: no verdict drift.
  CompareOptions loose;
  loose.verdict_overrides = {"verdict.exploding_decades=6"};
  const CompareReport r2 = compare_results(p.baseline, p.current, loose);
  REQUIRE(r2.drifts.size() == 1);
  REQUIRE(r2.drifts[0].column == "delta_ratio_log10_init");
}

TEST_CASE("a missing or extra step or layer row is a drift", "[compare]") {
  SweepPair p;
  remove_rows(p.current + "/steps.csv", {{"run_id", "0000000000a1"}, {"step", "10"}});
  remove_rows(p.baseline + "/layers.csv",
              {{"run_id", "0000000000c3"}, {"step", "20"}, {"layer", "4"}});
  const CompareReport r = compare_results(p.baseline, p.current, {});
  REQUIRE(r.drifts.size() == 2);
  REQUIRE(r.runs_drifted == 2);
  for (const Drift& d : r.drifts) {
    if (d.kind == DriftKind::row_missing) {
      REQUIRE(d.run_id == "0000000000a1");
      REQUIRE(d.file == "steps.csv");
      REQUIRE(d.step == "10");
    } else {
      REQUIRE(d.kind == DriftKind::row_added);
      REQUIRE(d.run_id == "0000000000c3");
      REQUIRE(d.file == "layers.csv");
      REQUIRE(d.step == "20");
      REQUIRE(d.layer == "4");
    }
  }
}

TEST_CASE("a column missing in new drifts every run", "[compare]") {
  SweepPair p;
  CsvTable t = read_csv_table(p.current + "/steps.csv");
  const std::size_t c = require_column(t, "grad_norm");
  t.header.erase(t.header.begin() + long(c));
  for (auto& row : t.rows) row.erase(row.begin() + long(c));
  write_table(t, p.current + "/steps.csv");
  const CompareReport r = compare_results(p.baseline, p.current, {});
  REQUIRE(r.drifts.size() == 1);
  REQUIRE(r.drifts[0].kind == DriftKind::column_missing);
  REQUIRE(r.drifts[0].column == "grad_norm");
  REQUIRE(r.runs_drifted == 3);
  // The other way round it is only a warning.
  const CompareReport back = compare_results(p.current, p.baseline, {});
  REQUIRE(back.drifts.empty());
  REQUIRE(back.columns_only_in_new == std::vector<std::string>{"steps.csv:grad_norm"});
}

TEST_CASE("single runs compare summary.json field by field", "[compare]") {
  test::TempDir dir("compare-single");
  write_run_folder(dir.file("a"), 1.0);
  write_run_folder(dir.file("b"), 1.0);
  REQUIRE(compare_results(dir.file("a"), dir.file("b"), {}).drifts.empty());

  auto summary = nlohmann::json::parse(test::read_text(dir.file("b/summary.json")));
  summary["final_loss"] = 0.61;  // was 0.6
  summary["status"] = "diverged";
  test::write_text(dir.file("b/summary.json"), summary.dump(2));
  const CompareReport r = compare_results(dir.file("a"), dir.file("b"), {});
  REQUIRE(r.runs_compared == 1);
  REQUIRE(r.runs_drifted == 1);
  REQUIRE(r.drifts.size() == 4);  // status, and so verdict and verdicts; final_loss
  REQUIRE(r.drifts[0].column == "status");  // text changes rank above any number
  REQUIRE(r.drifts[1].column == "verdict");
  REQUIRE(r.drifts[1].current == "diverged");
  REQUIRE(r.drifts[3].column == "final_loss");
  REQUIRE(r.drifts[3].file == "summary.json");
  REQUIRE(r.drifts[3].run_id == "run");
  REQUIRE(r.drifts[3].current == "0.61");
}

TEST_CASE("unusable input is an InputError naming the problem", "[compare]") {
  SweepPair p;
  REQUIRE_THROWS_AS(compare_results(p.dir.file("nope"), p.current, {}), InputError);
  REQUIRE_THROWS_WITH(compare_results(p.baseline, p.dir.file("nope"), {}),
                      Contains("nope") && Contains("no such folder"));
  fs::create_directories(p.dir.file("empty"));
  REQUIRE_THROWS_WITH(compare_results(p.baseline, p.dir.file("empty"), {}),
                      Contains("not a results folder"));
  // A sweep against a single run.
  REQUIRE_THROWS_WITH(compare_results(p.baseline, p.current + "/runs/0000000000a1", {}),
                      Contains("single run"));

  test::write_text(p.current + "/layers.csv",
                   test::read_text(p.current + "/layers.csv") + "0000000000a1,30,1\n");
  REQUIRE_THROWS_WITH(compare_results(p.baseline, p.current, {}),
                      Contains(p.current + "/layers.csv") && Contains("fields"));

  SweepPair q;
  test::write_text(q.current + "/steps.csv",
                   test::read_text(q.current + "/steps.csv") +
                       test::read_text(q.current + "/steps.csv")
                           .substr(test::read_text(q.current + "/steps.csv").find('\n') + 1));
  REQUIRE_THROWS_WITH(compare_results(q.baseline, q.current, {}), Contains("duplicate row"));

  SweepPair m;
  test::write_text(m.current + "/sweep.json", "{\"swept_keys\": [");
  REQUIRE_THROWS_WITH(compare_results(m.baseline, m.current, {}), Contains("sweep.json"));
}

// ---- the CLI ----------------------------------------------------------------------------

TEST_CASE("gradflow compare: exit 0 same, 1 drifted, 2 missing or unusable", "[compare][cli]") {
  SweepPair p;
  const std::string args = p.baseline + " " + p.current;
  const test::CliResult same = test::gradflow_cli("compare " + args);
  INFO(same.output);
  REQUIRE(same.code == 0);
  REQUIRE_THAT(same.output, Contains("compared 3 runs: 3 within tolerance, 0 drifted; 0 missing"));

  const Where at = {{"run_id", "0000000000b2"}, {"step", "10"}, {"layer", "2"}};
  set_cell(p.current + "/layers.csv", at, "grad_w_norm", "123");
  set_cell(p.current + "/runs.csv", {{"run_id", "0000000000a1"}}, "grad_ratio_log10_init", "-9");
  const test::CliResult drifted = test::gradflow_cli("compare " + args);
  INFO(drifted.output);
  REQUIRE(drifted.code == 1);
  REQUIRE_THAT(drifted.output, Contains("compared 3 runs: 1 within tolerance, 2 drifted"));
  REQUIRE_THAT(drifted.output, Contains("grad_w_norm") && Contains("123") &&
                                   Contains("depth=2/seed=2") && Contains("vanishing"));
  REQUIRE(drifted.output.find("verdict") < drifted.output.find("grad_w_norm"));  // worst first
  const test::CliResult limited = test::gradflow_cli("compare " + args + " --max-lines 1");
  INFO(limited.output);
  REQUIRE(limited.code == 1);
  REQUIRE_THAT(limited.output, Contains("... and 3 more"));  // verdicts, the ratio, grad_w_norm
  REQUIRE(test::gradflow_cli("compare " + args + " --rtol 1e9 -q").code == 1);  // verdict still differs
  REQUIRE(test::gradflow_cli("compare " + args + " --rtol -1").code == 2);      // usage

  remove_run(p.current, "0000000000c3");
  const test::CliResult missing = test::gradflow_cli("compare " + args);
  INFO(missing.output);
  REQUIRE(missing.code == 2);
  REQUIRE_THAT(missing.output, Contains("1 missing") && Contains("0000000000c3"));

  const test::CliResult nonexistent = test::gradflow_cli("compare " + p.baseline + " " + p.dir.file("nope"));
  INFO(nonexistent.output);
  REQUIRE(nonexistent.code == 2);
  REQUIRE_THAT(nonexistent.output, Contains(p.dir.file("nope")));

  test::write_text(p.current + "/runs.csv", test::read_text(p.current + "/runs.csv") + "x,y\n");
  const test::CliResult ragged = test::gradflow_cli("compare " + args);
  INFO(ragged.output);
  REQUIRE(ragged.code == 2);
  REQUIRE_THAT(ragged.output, Contains("runs.csv") && Contains("line 4"));  // 2 runs left
}

// ---- summarize --------------------------------------------------------------------------

namespace {

// depth {2, 4} x activation {relu, tanh} x seed {1, 2}: grad_ratio_log10_init is
// -depth * (1 for relu, 2 for tanh) + seed / 10, so each cell's mean is known.
std::vector<FixtureRun> grid_runs() {
  std::vector<FixtureRun> runs;
  int n = 0;
  for (int depth : {2, 4})
    for (const char* act : {"relu", "tanh"})
      for (int seed : {1, 2}) {
        FixtureRun r;
        char id[16];
        std::snprintf(id, sizeof id, "%012x", 0xabc00 + n++);
        r.id = id;
        r.swept = {std::to_string(depth), act, std::to_string(seed)};
        // Judged at the default 3 decades: seed 1 of (2, tanh) and of (4, relu) vanishes.
        r.grad_ratio_init = -depth * (act[0] == 't' ? 2.0 : 1.0) + seed * 0.6;
        runs.push_back(r);
      }
  return runs;
}

const std::vector<std::string> kGridKeys = {"model.depth", "model.activation", "seed"};

}  // namespace

TEST_CASE("summarize: a pivot averages the metric over the other swept keys", "[compare]") {
  test::TempDir dir("summarize");
  write_sweep_folder(dir.file("sweep"), kGridKeys, grid_runs());
  const ResultsFolder folder = load_results_folder(dir.file("sweep"));

  const Pivot p = pivot_runs(folder, {"model.depth", "model.activation", ""});
  REQUIRE(p.metric == "grad_ratio_log10_init");
  REQUIRE(p.row_values == std::vector<std::string>{"2", "4"});
  REQUIRE(p.col_values == std::vector<std::string>{"relu", "tanh"});
  const double expected[2][2] = {{-1.1, -3.1}, {-3.1, -7.1}};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      const PivotCell& c = p.cells[i][j];
      INFO("cell " << i << "," << j << ": mean " << c.mean << " std " << c.std);
      REQUIRE(c.runs == 2);
      REQUIRE(c.finite == 2);
      REQUIRE_THAT(c.mean, WithinAbs(expected[i][j], 1e-12));
      REQUIRE_THAT(c.std, WithinAbs(std::sqrt(0.18), 1e-12));  // sample std of {x, x+0.6}
    }

  const Pivot v = pivot_runs(folder, {"model.depth", "model.activation", "verdict"});
  REQUIRE(v.text_metric);
  REQUIRE(v.cells[0][0].counts ==
          std::vector<std::pair<std::string, std::size_t>>{{"healthy", 2}});
  REQUIRE(v.cells[0][1].counts.size() == 2);  // seed 1 vanishing, seed 2 healthy
  REQUIRE(v.cells[1][1].counts ==
          std::vector<std::pair<std::string, std::size_t>>{{"vanishing", 2}});

  // One key only: rows by depth, averaged over activation and seed.
  const Pivot rows_only = pivot_runs(folder, {"model.depth", "", "final_accuracy"});
  REQUIRE(rows_only.col_values.size() == 1);
  REQUIRE(rows_only.cells[0][0].runs == 4);
  REQUIRE_THAT(rows_only.cells[0][0].mean, WithinAbs(0.5, 1e-12));

  REQUIRE_THROWS_WITH(pivot_runs(folder, {"model.width", "seed", ""}),
                      Contains("model.width") && Contains("model.activation"));
  REQUIRE_THROWS_WITH(pivot_runs(folder, {"seed", "seed", ""}), Contains("--cols"));
  REQUIRE_THROWS_WITH(pivot_runs(folder, {"seed", "", "final_los"}),
                      Contains("final_los") && Contains("final_loss"));
}

TEST_CASE("summarize: runs in sweep order, and a single run's fields", "[compare]") {
  test::TempDir dir("summarize-overview");
  std::vector<FixtureRun> runs = grid_runs();
  write_sweep_folder(dir.file("sweep"), kGridKeys, runs);
  // runs.csv in completion order (reversed): the overview follows sweep.json instead.
  CsvTable t = read_csv_table(dir.file("sweep/runs.csv"));
  std::reverse(t.rows.begin(), t.rows.end());
  write_table(t, dir.file("sweep/runs.csv"));
  const RunOverview view = run_overview(load_results_folder(dir.file("sweep")), "parameters");
  REQUIRE(view.columns.front() == "run_id");
  REQUIRE(view.columns.back() == "parameters");
  REQUIRE(view.rows.size() == runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) REQUIRE(view.rows[i][0] == runs[i].id);

  const test::CliResult pivot = test::gradflow_cli("summarize " + dir.file("sweep") +
                                       " --rows model.depth --cols model.activation");
  INFO(pivot.output);
  REQUIRE(pivot.code == 0);
  REQUIRE_THAT(pivot.output, Contains("-1.1±0.424") && Contains("-7.1±0.424") &&
                                 Contains("relu") && Contains("tanh"));
  const test::CliResult verdicts = test::gradflow_cli("summarize " + dir.file("sweep") +
                                          " --rows model.depth --cols model.activation "
                                          "--metric verdict");
  INFO(verdicts.output);
  REQUIRE(verdicts.code == 0);
  REQUIRE_THAT(verdicts.output, Contains("healthy 1/2") && Contains("vanishing"));
  const test::CliResult overview = test::gradflow_cli("summarize " + dir.file("sweep"));
  INFO(overview.output);
  REQUIRE(overview.code == 0);
  REQUIRE_THAT(overview.output,
               Contains("8 finished runs") && Contains("depth=4/activation=tanh/seed=2"));
  const test::CliResult bad = test::gradflow_cli("summarize " + dir.file("sweep") + " --rows depth");
  INFO(bad.output);
  REQUIRE(bad.code == 1);
  REQUIRE_THAT(bad.output, Contains("model.depth"));

  const test::CliResult single = test::gradflow_cli("summarize " + dir.file("sweep") + "/runs/" + runs[0].id);
  INFO(single.output);
  REQUIRE(single.code == 0);
  REQUIRE_THAT(single.output,
               Contains("final_loss") && Contains("completed") && Contains("parameters"));
}
