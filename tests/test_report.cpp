// The HTML report: tick values, a small run and a small sweep through the CLI (well-formed
// markup, the expected panels, lines and heatmap cells), errors that write nothing, and
// byte-identical output for the same inputs.
#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "report/plot_svg.hpp"
#include "report/report_figures.hpp"
#include "report/report_layout.hpp"
#include "report/svg.hpp"
#include "report_support.hpp"
#include "support.hpp"

using namespace gradflow;
using gradflow::test::gradflow_cli;
using gradflow::test::read_text;
using gradflow::test::TempDir;
using gradflow::test::write_text;
using namespace gradflow::test;

TEST_CASE("Log axis ticks are whole decades, thinned to nice steps", "[report]") {
  CHECK(svg::log_ticks(-3.2, 1.5) == std::vector<int>{-3, -2, -1, 0, 1});
  CHECK(svg::log_ticks(-30, 0) == std::vector<int>{-30, -25, -20, -15, -10, -5, 0});
  CHECK(svg::log_ticks(-12.5, 2) == std::vector<int>{-12, -10, -8, -6, -4, -2, 0, 2});
  CHECK(svg::log_ticks(-0.2, 0.3) == std::vector<int>{0});
  CHECK(svg::decade_label(0) == "1");
  CHECK(svg::decade_label(1) == "10");
  CHECK(svg::decade_label(-3).find(">\xE2\x88\x92" "3</tspan>") != std::string::npos);
  const std::vector<double> lin = svg::linear_ticks(0, 1);
  REQUIRE(lin.size() == 6);
  CHECK_THAT(lin[3], Catch::Matchers::WithinAbs(0.6, 1e-12));
  CHECK(svg::linear_ticks(-0.3, 2.7) == std::vector<double>{0, 1, 2});
  CHECK(svg::tick_label(0.6000000001, 0.2) == "0.6");
  // Thinning steps for heatmap columns and curves: evenly spread, both ends kept.
  CHECK(spread_indices(10, 4) == std::vector<std::size_t>{0, 3, 6, 9});
  CHECK(spread_indices(3, 5) == std::vector<std::size_t>{0, 1, 2});
  CHECK(spread_indices(1000, 60).size() == 60);
  CHECK(spread_indices(1000, 60).back() == 999);
}

TEST_CASE("A log axis puts each decade at its height", "[report]") {
  svg::LinePlot p;
  p.y_log = true;
  p.series.push_back({"x", {1, 2, 3}, {1e-6, 1e-3, 1}, 0, false, true, {}});
  const std::string plot = svg::line_plot(p);
  // Ticks 10^-6 ... 1 (7 decades fit the target), labelled with raised exponents.
  for (int e = -6; e <= 0; ++e) {
    INFO("decade " << e);
    std::string label = ">";
    (label += svg::decade_label(e)) += "</text>";
    CHECK(plot.find(label) != std::string::npos);
  }
  // The plot area runs from y = 0 (10^0) to y = h (10^-6): 10^-3 sits halfway, on the middle
  // point of the line.
  const std::regex label_at("y=\"([0-9.]+)\" text-anchor=\"end\">10<tspan dy=\"-6\" "
                            "font-size=\"75%\">\xE2\x88\x92" "3</tspan>");
  std::smatch m;
  REQUIRE(std::regex_search(plot, m, label_at));
  const double label_y = std::stod(m[1]) - 4.5;  // the label's baseline sits 4.5 px lower
  const std::regex middle("d=\"M[0-9.]+ [0-9.]+L[0-9.]+ ([0-9.]+)L");
  REQUIRE(std::regex_search(plot, m, middle));
  CHECK_THAT(std::stod(m[1]), Catch::Matchers::WithinAbs(label_y, 0.11));
}

TEST_CASE("The well-formedness checker rejects broken markup", "[report]") {
  CHECK(xml_problem("<a><b>x &amp; y</b><c/></a>").empty());
  CHECK_FALSE(xml_problem("<a><b></a></b>").empty());
  CHECK_FALSE(xml_problem("<a><b></a>").empty());
  CHECK_FALSE(xml_problem("<a x=1></a>").empty());
  CHECK_FALSE(xml_problem("<a>x & y</a>").empty());
  CHECK_FALSE(xml_problem("<a>1 < 2</a>").empty());
  CHECK_FALSE(xml_problem("<a></a><b></b>").empty());
}

TEST_CASE("Report of a single run: well-formed page with every panel", "[report]") {
  TempDir dir("report-run");
  const std::string run = make_results(dir, kRunConfig, "tiny");
  const auto r = gradflow_cli("report " + run);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const std::string page = read_text(run + "/report.html");
  INFO(xml_problem(page));
  REQUIRE(xml_problem(page).empty());
  CHECK(page.find("<script") == std::string::npos);
  // Nothing to fetch: the only URLs are XML namespace names.
  CHECK(count(page, "http") == count(page, "xmlns=\"http"));
  CHECK(page.find(" src=") == std::string::npos);
  CHECK(page.find("<link") == std::string::npos);
  CHECK(page.find("@media print") != std::string::npos);
  // Norm plots at init and end for both norms, loss, accuracy, three fraction heatmaps.
  for (const char* label :
       {"\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82W\xE2\x80\x96 per layer at init (step 0)",
        "\xE2\x80\x96\xCE\xB4\xE2\x80\x96 per layer at init (step 0)", "loss on the probe set",
        "accuracy on the probe set", "dead units", "zero outputs (relu sparsity)",
        "relu: \xCF\x86(x)", "sigmoid: derivative \xCF\x86\xE2\x80\xB2(x)"}) {
    INFO(label);
    CHECK(!figure(page, label).empty());
  }
  const std::string init = figure(page, "\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82W\xE2\x80\x96 per layer at init (step 0)");
  CHECK(count(init, "class=\"line\"") == 1);
  // relu: inactive would repeat dead, so it is not drawn; "saturated" is called sparsity.
  CHECK(figure(page, "inactive units").empty());
  CHECK(figure(page, "saturated (unit, input) pairs").empty());
  CHECK(page.find("a healthy ReLU net is about half zeros") != std::string::npos);
  // Fraction heatmap: 3 hidden layers x 4 logged steps (0, 4, 8, 12).
  CHECK(count(figure(page, "dead units"), "class=\"cell\"") == 3 * 4);
}

TEST_CASE("Report of a sweep: heatmap panels, one line per activation, errors, determinism",
          "[report]") {
  TempDir dir("report-sweep");
  const std::string sweep = make_results(dir, kSweepConfig, "tiny_sweep");
  const auto r = gradflow_cli("report " + sweep + " -o " + dir.file("a.html"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  const std::string page = read_text(dir.file("a.html"));
  INFO(xml_problem(page));
  REQUIRE(xml_problem(page).empty());

  // Rows depth (2) x columns lr (2), one panel per activation (2), for the metric and the
  // verdict: every panel has 2 x 2 cells.
  for (const char* metric : {"grad_ratio_log10_init", "verdict"})
    for (const char* act : {"relu", "tanh"}) {
      const std::string map = figure(page, std::string(metric) + ", activation = " + act);
      INFO(metric << " " << act);
      REQUIRE(!map.empty());
      CHECK(count(map, "class=\"cell\"") == 2 * 2);
    }
  // Four groups (depth x lr), each plot one measured line per activation.
  CHECK(count(page, "<h3>depth=2, lr=0.01</h3>") == 1);
  CHECK(count(page, "<h3>depth=3, lr=0.1</h3>") == 1);
  const std::string group = page.substr(page.find("<h3>depth=2, lr=0.01</h3>"));
  const std::string init = figure(group, "\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82W\xE2\x80\x96 per layer at init (step 0)");
  CHECK(count(init, "class=\"line\"") == 2);
  CHECK(group.find("relu / he_normal") != std::string::npos);

  // Another metric and keys; the verdict as the metric.
  const auto v = gradflow_cli("report " + sweep + " -o " + dir.file("v.html") +
                              " --metric verdict --rows train.lr --cols model.activation");
  INFO(v.output);
  REQUIRE(v.code == 0);
  const std::string vpage = read_text(dir.file("v.html"));
  CHECK(xml_problem(vpage).empty());
  CHECK(count(figure(vpage, "verdict"), "class=\"cell\"") == 2 * 2);

  SECTION("the same inputs give the same bytes") {
    REQUIRE(gradflow_cli("report " + sweep + " -o " + dir.file("b.html")).code == 0);
    CHECK(read_text(dir.file("b.html")) == page);
  }
  SECTION("a theory column in runs.csv adds prediction panels") {
    std::string runs = read_text(sweep + "/runs.csv");
    if (runs.find("theory_grad_ratio_log10") == std::string::npos) {  // older gradflow
      std::string out;
      for (std::size_t pos = 0, line = 0; pos < runs.size(); ++line) {
        const std::size_t end = runs.find('\n', pos);
        out += runs.substr(pos, end - pos) + (line == 0 ? ",theory_grad_ratio_log10\n" : ",-1\n");
        pos = end + 1;
      }
      write_text(sweep + "/runs.csv", out);
    }
    REQUIRE(gradflow_cli("report " + sweep + " -o " + dir.file("t.html")).code == 0);
    const std::string tpage = read_text(dir.file("t.html"));
    CHECK(xml_problem(tpage).empty());
    for (const char* act : {"relu", "tanh"})
      CHECK(count(figure(tpage, std::string("theory_grad_ratio_log10, activation = ") + act),
                  "class=\"cell\"") == 2 * 2);
  }
  SECTION("bad input: exit 1, a message naming the problem, nothing written") {
    const auto missing = gradflow_cli("report " + dir.file("nope") + " -o " + dir.file("x.html"));
    CHECK(missing.code == 1);
    CHECK(missing.output.find("no such folder") != std::string::npos);
    const auto metric = gradflow_cli("report " + sweep + " -o " + dir.file("x.html") +
                                     " --metric final_losss");
    CHECK(metric.code == 1);
    CHECK(metric.output.find("unknown metric \"final_losss\"") != std::string::npos);
    const auto key = gradflow_cli("report " + sweep + " -o " + dir.file("x.html") +
                                  " --panel model.width");
    CHECK(key.code == 1);
    CHECK(key.output.find("not a swept key") != std::string::npos);
    const auto run = gradflow_cli("report " + sweep + " -o " + dir.file("x.html") + " --run 0123");
    CHECK(run.code == 1);
    CHECK(!std::filesystem::exists(dir.file("x.html")));
  }
}

namespace {

// The end point ("x y") of the first path of class `cls` in `svg`.
std::string path_end(const std::string& svg, const std::string& cls) {
  const std::size_t at = svg.find("class=\"" + cls + "\" d=\"");
  if (at == std::string::npos) return "";
  const std::size_t start = at + cls.size() + 13;
  const std::string d = svg.substr(start, svg.find('"', start) - start);
  return d.substr(d.find_last_of("LM") + 1);
}

}  // namespace

TEST_CASE("Report draws the prediction anchored at the output layer, with its caveats",
          "[report]") {
  TempDir dir("report-theory");
  const std::string run = make_results(dir, kRunConfig, "tiny");
  // Our own prediction (step 0 only, nan later) in place of the one gradflow wrote, in the
  // theory columns wherever the header puts them, so the anchoring can be checked exactly.
  const std::string layers = read_text(run + "/layers.csv");
  auto split = [](const std::string& row) {
    std::vector<std::string> cells;
    std::size_t start = 0;
    for (std::size_t comma; (comma = row.find(',', start)) != std::string::npos; start = comma + 1)
      cells.push_back(row.substr(start, comma - start));
    cells.push_back(row.substr(start));
    return cells;
  };
  std::string out;
  std::vector<std::size_t> theory;
  for (std::size_t pos = 0, line = 0; pos < layers.size(); ++line) {
    const std::size_t end = layers.find('\n', pos);
    std::vector<std::string> cells = split(layers.substr(pos, end - pos));
    pos = end + 1;
    if (line == 0) {
      for (std::size_t i = 0; i < cells.size(); ++i)
        if (cells[i].rfind("theory_", 0) == 0) theory.push_back(i);
      REQUIRE(theory.size() == 2);
    } else {
      const bool init = cells[0] == "0";
      const int layer = std::stoi(cells[1]);
      for (std::size_t i : theory) cells[i] = init ? std::to_string(-0.5 * (4 - layer)) : "nan";
    }
    for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + cells[i];
    out += "\n";
  }
  write_text(run + "/layers.csv", out);
  Json summary = Json::parse(read_text(run + "/summary.json"));
  summary["theory_caveats"] = {"width 8 < 64: finite-width fluctuations"};
  write_text(run + "/summary.json", summary.dump(2));

  const auto r = gradflow_cli("report " + run + " -q");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const std::string page = read_text(run + "/report.html");
  REQUIRE(xml_problem(page).empty());
  const std::string init = figure(page, "\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82W\xE2\x80\x96 per layer at init (step 0)");
  const std::string end = figure(page, "\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82W\xE2\x80\x96 per layer at the end (step 12)");
  CHECK(count(init, "class=\"prediction\"") == 1);
  CHECK(count(end, "class=\"prediction\"") == 0);
  // The prediction for the output layer is 0 decades: it ends on the measured point.
  INFO(init);
  CHECK(!path_end(init, "line").empty());
  CHECK(path_end(init, "prediction") == path_end(init, "line"));
  CHECK(page.find("width 8 &lt; 64: finite-width fluctuations") != std::string::npos);
}

namespace {

// A sweep's loaded data with only what the layout reads: swept keys and values per run (and
// a constant metric, so the default metric is grad_ratio_log10_init).
ReportData fake_sweep(const std::vector<std::string>& keys,
                      std::vector<std::vector<std::string>> values) {
  for (std::vector<std::string>& v : values) v.push_back("0");
  return fake_runs(keys, {"grad_ratio_log10_init"}, values);
}

}  // namespace

TEST_CASE("Report layout: lines per swept value capped, seeds left out, zipped keys follow",
          "[report]") {
  SECTION("ten learning rates x two seeds") {
    std::vector<std::vector<std::string>> values;
    for (int lr = 0; lr < 10; ++lr)
      for (int seed = 1; seed <= 2; ++seed) values.push_back({std::to_string(lr), std::to_string(seed)});
    const ReportLayout l = plan_report(fake_sweep({"train.lr", "seed"}, values), {});
    CHECK(l.line_key == "train.lr");
    REQUIRE(l.groups.size() == 1);
    CHECK(l.groups[0].runs.size() == 8);  // max_lines
    CHECK(l.groups[0].lines_dropped == 2);
    CHECK(l.runs_not_drawn == 10);        // the second seed of each value
    CHECK(l.cols == "train.lr");
    CHECK(l.rows.empty());
    CHECK(l.averaged_keys == std::vector<std::string>{"seed"});
    CHECK(l.detail_runs.size() == 6);  // max_runs
  }
  SECTION("depth x lr x (activation, init) zipped") {
    std::vector<std::vector<std::string>> values;
    for (const char* depth : {"2", "4"})
      for (const char* lr : {"0.1", "0.01", "0.001"})
        for (const auto& [act, init] : {std::pair{"relu", "he"}, {"tanh", "xavier"}, {"sigmoid", "xavier"}})
          values.push_back({depth, lr, act, init});
    const ReportData d = fake_sweep({"model.depth", "train.lr", "model.activation", "model.init"}, values);
    const ReportLayout l = plan_report(d, {});
    CHECK(l.rows == "model.depth");
    CHECK(l.cols == "train.lr");
    CHECK(l.panel == "model.activation");
    CHECK(l.panel_values == std::vector<std::string>{"relu", "tanh", "sigmoid"});
    CHECK(l.line_keys == std::vector<std::string>{"model.activation", "model.init"});
    REQUIRE(l.groups.size() == 6);
    CHECK(l.groups[0].title == "depth=2, lr=0.1");
    CHECK(l.groups[0].lines == std::vector<std::string>{"relu / he", "tanh / xavier", "sigmoid / xavier"});
    ReportOptions few;
    few.max_groups = 4;
    CHECK(plan_report(d, few).groups_dropped == 2);
    ReportOptions bad;
    bad.rows = "model.depth";
    bad.panel = "model.depth";
    CHECK_THROWS_WITH(plan_report(d, bad), Catch::Contains("already given to --rows"));
  }
}
