// layers.csv rows of every kind (dense, output, projection, batch_norm, layer_norm, prelu,
// residual) read by the report and the run summary: each per-layer figure draws the rows that
// carry its quantity and names their kinds; older folders (kind "hidden", or no kind column)
// give the same page as today's; the summary's ratios use the dense/output rows only.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "base/csv_table.hpp"
#include "io/writers.hpp"
#include "report/report.hpp"
#include "report_support.hpp"
#include "support.hpp"
#include "train/summary.hpp"

using namespace gradflow;
using namespace gradflow::test;
using Catch::Matchers::WithinAbs;

namespace {

// A stack with a row of every kind (1-based rows):
//  1 dense -> 2 batch_norm (affine) -> relu -> 3 dense -> 4 prelu ->
//  residual block [5 dense -> 6 layer_norm (no affine) -> relu -> 7 dense 8->6], 8 projection,
//  9 residual (ReZero alpha) -> relu -> residual block [10 dense], 11 residual (scale 0.5)
//  -> relu -> 12 output.
struct FakeRow {
  RowKind kind;
  long fan_in, fan_out;
  bool grad;   // has a weight-like tensor
  bool units;  // feeds an activation
};
const std::vector<FakeRow> kStack = {
    {RowKind::dense, 4, 8, true, false},       {RowKind::batch_norm, 8, 8, true, true},
    {RowKind::dense, 8, 8, true, true},        {RowKind::prelu, 8, 8, true, false},
    {RowKind::dense, 8, 8, true, false},       {RowKind::layer_norm, 8, 8, false, true},
    {RowKind::dense, 8, 6, true, false},       {RowKind::projection, 8, 6, true, false},
    {RowKind::residual, 8, 6, true, true},     {RowKind::dense, 6, 6, true, false},
    {RowKind::residual, 6, 6, false, true},    {RowKind::output, 6, 3, true, false}};

// The records of one logged step: values that differ by row and step, NaN where the row
// does not carry the quantity (as training writes them).
std::vector<LayerRecord> fake_records(long step) {
  std::vector<LayerRecord> out;
  const double n = double(kStack.size());
  for (std::size_t i = 0; i < kStack.size(); ++i) {
    const FakeRow& f = kStack[i];
    LayerRecord r;
    r.step = step;
    r.layer = int(i + 1);
    r.kind = f.kind;
    r.output = f.kind == RowKind::output;
    r.fan_in = f.fan_in, r.fan_out = f.fan_out;
    const double scale = std::pow(10.0, -(n - double(i + 1)) / 4) * (1 + double(step) / 12);
    if (f.grad) {
      r.grad_w_norm = scale;
      r.weight_norm = 1;
      r.update_ratio = step == 0 ? kNaN : 1e-3 * scale;
    }
    r.delta_norm = 2 * scale;
    r.preact_mean = 0, r.preact_std = 1;
    if (f.units) {
      r.dead_fraction = 0.02 * double(i + 1) + 0.01 * double(step);
      r.inactive_fraction = r.dead_fraction;
      r.saturated_fraction = 0.5;
    }
    if (f.kind == RowKind::prelu) r.slope_mean = 0.25 + 0.01 * double(step), r.slope_min = 0.2 - 0.005 * double(step);
    if (f.kind == RowKind::residual) r.gate = i == 8 ? 0.02 * double(step) : 0.5;
    out.push_back(r);
  }
  return out;
}

std::string fake_layers_csv(const std::vector<long>& steps) {
  std::string out = csv_header(kLayerColumns, {});
  for (long s : steps)
    for (const LayerRecord& r : fake_records(s)) append_layer_row(out, "", r);
  return out;
}

const char* kGradInit = "\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82W\xE2\x80\x96 per layer at init (step 0)";
const char* kDeltaInit = "\xE2\x80\x96\xCE\xB4\xE2\x80\x96 per layer at init (step 0)";

}  // namespace

TEST_CASE("Report of a stack with every layer kind: rows that carry each quantity, named by kind",
          "[report]") {
  TempDir dir("report-kinds");
  const std::string run = make_results(dir, kRunConfig, "tiny");  // logs steps 0, 4, 8, 12
  write_text(run + "/layers.csv", fake_layers_csv({0, 4, 8, 12}));
  const ReportData data = load_report_data(run);
  REQUIRE(data.runs.size() == 1);
  const RunData& r = data.runs.front();
  REQUIRE(r.kinds.size() == kStack.size());
  CHECK(r.kinds[1] == "batch_norm");
  CHECK(r.kinds[7] == "projection");
  CHECK(!plain_kinds(r));
  CHECK(rows_with(r, RowQuantity::grad_w) ==
        std::vector<std::size_t>{0, 1, 2, 3, 4, 6, 7, 8, 9, 11});  // not 6 layer_norm, 11 residual
  CHECK(rows_with(r, RowQuantity::delta).size() == kStack.size());
  CHECK(rows_with(r, RowQuantity::units) == std::vector<std::size_t>{1, 2, 5, 8, 10});
  CHECK(rows_with(r, RowQuantity::slope) == std::vector<std::size_t>{3});
  CHECK(rows_with(r, RowQuantity::gate) == std::vector<std::size_t>{8, 10});
  CHECK(dense_rows(r) == 5);

  const std::string page = build_report({run}, ReportOptions{});
  INFO(xml_problem(page));
  REQUIRE(xml_problem(page).empty());
  // Gradient at init: one point (with its tooltip) per row with parameters.
  const std::string grad = figure(page, kGradInit);
  REQUIRE(!grad.empty());
  CHECK(count(grad, "class=\"hover\"") == 10);
  for (const char* t : {"<title>2 batch_norm</title>", "<title>4 prelu</title>",
                        "<title>8 projection</title>", "<title>9 residual</title>",
                        "<title>12 output</title>"}) {
    INFO(t);
    CHECK(count(grad, t) == 1);
  }
  CHECK(count(grad, "<title>6 layer_norm</title>") == 0);
  CHECK(count(grad, "<title>11 residual</title>") == 0);
  CHECK(grad.find("layers.csv row") != std::string::npos);
  // Delta: every row.
  const std::string delta = figure(page, kDeltaInit);
  CHECK(count(delta, "class=\"hover\"") == 12);
  CHECK(count(delta, "<title>11 residual</title>") == 1);
  // Unit maps: the 5 rows that feed an activation x 4 logged steps, labelled with kinds.
  const std::string dead = figure(page, "dead units");
  CHECK(count(dead, "class=\"cell\"") == 5 * 4);
  for (const char* label : {">2 batch_norm<", ">6 layer_norm<", ">9 residual<", ">11 residual<"}) {
    INFO(label);
    CHECK(count(dead, label) == 1);
  }
  CHECK(count(dead, ">4 prelu<") == 0);
  // Norm maps per row and step: 10 rows with a gradient, 12 with delta.
  const std::string gmap = figure(page, "\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82W\xE2\x80\x96 per layer and step");
  CHECK(count(gmap, "class=\"cell\"") == 10 * 4);
  CHECK(count(gmap, ">8 projection<") == 1);
  CHECK(count(figure(page, "\xE2\x80\x96\xCE\xB4\xE2\x80\x96 per layer and step"), "class=\"cell\"") ==
        12 * 4);
  // PReLU slopes (mean and min of row 4) and the gates of both blocks.
  const std::string slopes = figure(page, "PReLU slopes per layer");
  REQUIRE(!slopes.empty());
  CHECK(count(slopes, "class=\"line\"") == 2);
  const std::string gates = figure(page, "residual gate per block");
  REQUIRE(!gates.empty());
  CHECK(count(gates, "class=\"line\"") == 2);
  CHECK(page.find("row 9 residual") != std::string::npos);
  CHECK(page.find("row 11 residual") != std::string::npos);
  // The update-ratio legend names rows by kind.
  CHECK(page.find("row 2 batch_norm") != std::string::npos);
  CHECK(page.find("5 hidden layers") != std::string::npos);
  CHECK(page.find("also of kinds batch_norm, prelu, layer_norm, projection, residual") !=
        std::string::npos);
}

TEST_CASE("Report of a plain MLP: old folders (kind hidden, no kind or gate columns) read the same",
          "[report]") {
  TempDir dir("report-old-kinds");
  const std::string run = make_results(dir, kRunConfig, "tiny");
  const std::string today = build_report({run}, ReportOptions{});
  INFO(xml_problem(today));
  REQUIRE(xml_problem(today).empty());
  CHECK(figure(today, "PReLU slopes per layer").empty());
  CHECK(figure(today, "residual gate per block").empty());
  CHECK(count(figure(today, kGradInit), "<title>") == 4 + 0);  // 3 dense + output
  CHECK(figure(today, kGradInit).find("dense layer (1 = first hidden, last = output)") !=
        std::string::npos);
  CHECK(count(figure(today, "dead units"), "class=\"cell\"") == 3 * 4);
  CHECK(count(figure(today, "dead units"), ">3 dense<") == 0);  // plain: numbers only

  const CsvTable t = read_csv_table(run + "/layers.csv");
  const auto rewrite = [&](bool keep_kind, bool hidden) {
    std::string out;
    std::vector<std::size_t> keep;
    for (std::size_t c = 0; c < t.header.size(); ++c) {
      const std::string& h = t.header[c];
      if (h == "slope_mean" || h == "slope_min" || h == "gate") continue;
      if (h == "kind" && !keep_kind) continue;
      keep.push_back(c);
    }
    for (std::size_t k = 0; k < keep.size(); ++k) out += (k ? "," : "") + t.header[keep[k]];
    out += '\n';
    for (const auto& row : t.rows) {
      for (std::size_t k = 0; k < keep.size(); ++k) {
        std::string v = row[keep[k]];
        if (hidden && t.header[keep[k]] == "kind" && v == "dense") v = "hidden";
        out += (k ? "," : "") + v;
      }
      out += '\n';
    }
    write_text(run + "/layers.csv", out);
  };
  rewrite(true, true);
  CHECK(build_report({run}, ReportOptions{}) == today);
  rewrite(false, false);
  CHECK(build_report({run}, ReportOptions{}) == today);
}

TEST_CASE("Summary ratios use the first and last dense/output rows; NaN rows do not poison",
          "[summary]") {
  // A stack that opens with a layer norm (model.layers can), whose gamma gradient is large.
  std::vector<LayerRecord> init = fake_records(0);
  LayerRecord ln;
  ln.layer = 0;
  ln.kind = RowKind::layer_norm;
  ln.grad_w_norm = 1e5;
  ln.delta_norm = 1e5;
  init.insert(init.begin(), ln);
  std::vector<LayerRecord> last = fake_records(12);
  // A prelu row's NaN dead fraction and a residual row's NaN gradient sit between.
  REQUIRE(std::isnan(last[3].dead_fraction));
  REQUIRE(std::isnan(last[10].grad_w_norm));
  RunSummary s;
  fill_flow_indicators(s, init, last);
  // Row 1 dense vs row 12 output: 10^(-11/4) over 10^0 whatever the step's factor.
  INFO(s.grad_ratio_log10_init << " " << s.delta_ratio_log10_init);
  CHECK_THAT(s.grad_ratio_log10_init, WithinAbs(-11.0 / 4, 1e-12));
  CHECK_THAT(s.delta_ratio_log10_init, WithinAbs(-11.0 / 4, 1e-12));
  CHECK_THAT(s.grad_ratio_log10_final, WithinAbs(-11.0 / 4, 1e-12));
  CHECK_THAT(s.delta_ratio_log10_final, WithinAbs(-11.0 / 4, 1e-12));
  // Largest dead fraction: row 11 (residual), 0.22 at init, 0.34 at step 12.
  INFO(s.max_dead_fraction_init << " " << s.max_dead_fraction_final);
  CHECK_THAT(s.max_dead_fraction_init, WithinAbs(0.22, 1e-12));
  CHECK_THAT(s.max_dead_fraction_final, WithinAbs(0.34, 1e-12));
  // No dense/output row at all: the ratios stay NaN rather than reading a norm row.
  RunSummary none;
  fill_flow_indicators(none, {ln}, {ln});
  CHECK(std::isnan(none.grad_ratio_log10_init));
  CHECK(std::isnan(none.delta_ratio_log10_final));
  CHECK(std::isnan(none.max_dead_fraction_init));
}

TEST_CASE("Summary ratios of a conv stem start at its first conv2d row", "[summary][conv]") {
  // conv2d, conv2d, output (a stem before a bare read-out, model.conv with depth 0): layer 1 is
  // the first conv, not the output layer compared with itself (which would read 0).
  std::vector<LayerRecord> rows(3);
  const double grad[] = {1e-3, 1e-2, 1.0}, delta[] = {1e2, 1e1, 1.0};
  for (int i = 0; i < 3; ++i) {
    rows[std::size_t(i)].layer = i + 1;
    rows[std::size_t(i)].kind = i < 2 ? RowKind::conv2d : RowKind::output;
    rows[std::size_t(i)].output = i == 2;
    rows[std::size_t(i)].grad_w_norm = grad[i];
    rows[std::size_t(i)].delta_norm = delta[i];
  }
  RunSummary s;
  fill_flow_indicators(s, rows, rows);
  CHECK_THAT(s.grad_ratio_log10_init, WithinAbs(-3.0, 1e-12));
  CHECK_THAT(s.delta_ratio_log10_init, WithinAbs(2.0, 1e-12));
  CHECK_THAT(s.grad_ratio_log10_final, WithinAbs(-3.0, 1e-12));
}
