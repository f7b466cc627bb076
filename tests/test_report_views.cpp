// The report over time and across folders, and what must not mislead: layer x step heatmaps,
// update ratios and the global gradient norm; diverged and born-dead runs; several folders
// overlaid; figures as SVG files; the default metric, colours, labels and per-activation
// measures; the quickstart's suggested next step; the sweep progress line.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "cli/progress.hpp"
#include "config/sweep.hpp"
#include "report/plot_svg.hpp"
#include "report/report_figures.hpp"
#include "report/report_layout.hpp"
#include "report/svg.hpp"
#include "report_support.hpp"
#include "run/runner.hpp"
#include "support.hpp"

using namespace gradflow;
using namespace gradflow::test;

namespace {

const std::string kGradW = "\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82W\xE2\x80\x96";
const std::string kDelta = "\xE2\x80\x96\xCE\xB4\xE2\x80\x96";

// `gradflow run` of kRunConfig with overrides, into dir/name.
std::string run_tiny(const TempDir& dir, const std::string& name, const std::string& sets) {
  write_text(dir.file("tiny.json"), kRunConfig);
  const auto r = gradflow_cli("run " + dir.file("tiny.json") + " " + sets + " --out " +
                              dir.file(name) + " -q");
  INFO(r.output);
  REQUIRE(r.code == 0);
  return dir.file(name);
}

std::string report_of(const std::string& args, const std::string& out) {
  const auto r = gradflow_cli("report " + args + " -o " + out + " -q");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const std::string page = read_text(out);
  INFO(xml_problem(page));
  REQUIRE(xml_problem(page).empty());
  return page;
}

}  // namespace

TEST_CASE("Report over time: layer x step norm maps, update ratio, global gradient norm",
          "[report]") {
  TempDir dir("report-time");
  const std::string run = run_tiny(dir, "tiny", "");
  const std::string page = report_of(run, dir.file("r.html"));
  // 3 hidden layers + the output layer x 4 logged steps, on one log colour scale labelled in
  // decades at both ends.
  for (const std::string& norm : {kGradW, kDelta}) {
    const std::string map = figure(page, norm + " per layer and step");
    INFO(norm);
    REQUIRE(!map.empty());
    CHECK(count(map, "class=\"cell\"") == 4 * 4);
    CHECK(count(map, "class=\"bar-end\">10") + count(map, "class=\"bar-end\">1<") == 2);
  }
  const std::string ratio = figure(page, "update ratio per layer");
  REQUIRE(!ratio.empty());
  CHECK(count(ratio, "class=\"guide\"") == 1);
  CHECK(count(ratio, "class=\"line\"") == 4);  // one line per layer
  const std::string grad = figure(page, "global gradient norm");
  REQUIRE(!grad.empty());
  CHECK(count(grad, "class=\"line\"") == 1);
  CHECK(grad.find("(log scale)") != std::string::npos);
}

TEST_CASE("Report of a diverged run: steps before divergence drawn and marked", "[report]") {
  TempDir dir("report-diverged");
  // The quickstart with relu at its lr 0.5 diverges at step 4 (README).
  const std::string run = dir.file("boom");
  const auto r = gradflow_cli("run " + std::string(GRADFLOW_SOURCE_DIR) +
                              "/configs/quickstart.json --set model.activation=relu --set "
                              "model.init=he_normal --set train.steps=40 --out " +
                              run + " -q");
  INFO(r.output);
  REQUIRE(r.code == 0);
  REQUIRE(read_text(run + "/summary.json").find("\"diverged\"") != std::string::npos);
  const std::string page = report_of(run, dir.file("r.html"));
  CHECK(page.find("<b>Diverged:</b>") != std::string::npos);
  CHECK(count(figure(page, "global gradient norm"), "class=\"mark\"") == 1);
  CHECK(count(figure(page, "loss on the probe set"), "class=\"mark\"") == 1);
  CHECK(figure(page, kGradW + " per layer and step").find("diverged at the last") !=
        std::string::npos);
  // The end-of-training plot shows the last step with finite norms, not an empty frame.
  const std::size_t at = page.find("aria-label=\"" + kGradW + " per layer at the end");
  REQUIRE(at != std::string::npos);
  CHECK(count(page.substr(at, page.find("</svg></svg>", at) - at), "class=\"line\"") >= 1);
}

TEST_CASE("Exact zeros on a log axis are drawn on a '0' line with a note", "[report]") {
  SECTION("the plot primitive") {
    svg::LinePlot p;
    p.y_log = true;
    p.series.push_back({"a", {1, 2, 3}, {1e-3, 0, 1e-2}, 0, false, true, {}});
    p.series.push_back({"born dead", {1, 2, 3}, {0, 0, 0}, 1, false, true, {}});
    const std::string without = svg::line_plot(p);
    p.zero_note = "0: no gradient";
    const std::string with = svg::line_plot(p);
    CHECK(count(without, "<rect x=") == 0);  // style 1's square markers: the zeros vanish
    CHECK(with.find("0: no gradient") != std::string::npos);
    CHECK(with.find(">0</text>") != std::string::npos);
    CHECK(count(with, "class=\"line\"") == 2);  // the born-dead line exists
    CHECK(count(with, "<rect x=") == 3);        // style 1's square markers, one per point
    CHECK(count(with, "<circle") == 3);         // and all three points of the first line
    CHECK(count(without, "<circle") == 2);
  }
  SECTION("a born-dead run (relu, bias -3: every hidden unit off on every input)") {
    TempDir dir("report-born-dead");
    const std::string run = run_tiny(dir, "dead", "--set model.bias_init=-3");
    const std::string page = report_of(run, dir.file("r.html"));
    const std::string init = figure(page, kGradW + " per layer at init (step 0)");
    CHECK(init.find("0: no gradient") != std::string::npos);
    CHECK(count(init, "class=\"line\"") == 1);
    const std::string map = figure(page, kGradW + " per layer and step");
    CHECK(count(map, "fill=\"#000000\"") >= 4 * 4);  // every cell is an exact 0
    CHECK(map.find("0: no gradient") != std::string::npos);
  }
}

TEST_CASE("Report of several folders: one line per folder, joined run table", "[report]") {
  TempDir dir("report-overlay");
  const std::string a = run_tiny(dir, "sgd", "");
  const std::string b = run_tiny(dir, "adam", "--set train.optimizer=adam --set train.lr=0.01");
  const std::string sweep = make_results(dir, kSweepConfig, "tiny_sweep");
  const std::string page = report_of(a + " " + b, dir.file("ab.html"));
  CHECK(count(figure(page, kGradW + " per layer at init (step 0)"), "class=\"line\"") == 2);
  CHECK(page.find("<th>folder</th>") != std::string::npos);
  CHECK(page.find("<td>sgd</td>") != std::string::npos);
  CHECK(page.find("<td>adam</td>") != std::string::npos);
  SECTION("--run takes one id, so folders may follow it") {
    const std::string one = report_of(a + " --run adam " + b, dir.file("one.html"));
    CHECK(one.find("<th>folder</th>") != std::string::npos);
    CHECK(count(one, "update ratio per layer</text>") == 1);  // the one per-run section asked for
  }
  SECTION("a sweep beside a run: the sweep's groups each get the run's line too") {
    const std::string mixed = report_of(sweep + " " + a, dir.file("mixed.html"));
    CHECK(mixed.find("<td>tiny_sweep</td>") != std::string::npos);
    CHECK(count(mixed, "<th>folder</th>") == 1);
    CHECK(mixed.find("tiny_sweep/") != std::string::npos);  // run ids stay unique
  }
  SECTION("same inputs, same bytes; a bad folder writes nothing") {
    CHECK(report_of(a + " " + b, dir.file("ab2.html")) == page);
    const auto bad =
        gradflow_cli("report " + a + " " + dir.file("nope") + " -o " + dir.file("x.html"));
    CHECK(bad.code == 1);
    CHECK(!std::filesystem::exists(dir.file("x.html")));
  }
  CHECK(folder_labels({"x/a/run", "y/b/run"}) == std::vector<std::string>{"a/run", "b/run"});
  CHECK(folder_labels({"a", "a"}) == std::vector<std::string>{"a", "a (2)"});
}

TEST_CASE("report --svg-dir writes every figure as a standalone SVG file", "[report]") {
  TempDir dir("report-svg");
  const std::string run = run_tiny(dir, "tiny", "");
  const auto r = gradflow_cli("report " + run + " -o " + dir.file("r.html") + " --svg-dir " +
                              dir.file("figs") + " -q");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const std::string page = read_text(dir.file("r.html"));
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.file("figs"))) {
    const std::string svg = read_text(e.path().string());
    INFO(e.path().string() << ": " << xml_problem(svg.substr(svg.find("?>") + 2)));
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(xml_problem(svg.substr(svg.find("?>") + 2)).empty());
    names.insert(e.path().filename().string());
  }
  // One file per top-level figure of the page (each opens an <svg with its namespace).
  CHECK(names.size() == count(page, "<svg xmlns="));
  CHECK(names.count("001-legend.svg") == 1);
  CHECK(names.count("002-grad-w-per-layer-at-init-step-0.svg") == 1);
}

TEST_CASE("The quickstart's suggested next step trains", "[report][quickstart]") {
  const std::string root = GRADFLOW_SOURCE_DIR;
  const Json config = Json::parse(read_text(root + "/configs/quickstart.json"));
  const std::string description = config["description"].get<std::string>();
  const std::regex sets("(--set [^ ]+=[^ ]+ ?)+");
  std::smatch m;
  REQUIRE(std::regex_search(description, m, sets));
  std::string suggestion = m.str();
  while (!suggestion.empty() && suggestion.back() == ' ') suggestion.pop_back();
  INFO(suggestion);
  // The README suggests the same flags.
  CHECK(read_text(root + "/README.md").find(suggestion) != std::string::npos);
  TempDir dir("quickstart-next");
  const auto r = gradflow_cli("run " + root + "/configs/quickstart.json " + suggestion + " --out " +
                              dir.file("next") + " -q");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const Json summary = Json::parse(read_text(dir.file("next/summary.json")));
  CHECK(summary["status"] == "completed");
  CHECK(summary["verdict"] == "healthy");
}

namespace {

double fill_luminance(const std::string& fill) {
  const unsigned rgb = std::stoul(fill.substr(1), nullptr, 16);
  return svg::luminance(
      {((rgb >> 16) & 255) / 255.0, ((rgb >> 8) & 255) / 255.0, (rgb & 255) / 255.0});
}

}  // namespace

TEST_CASE("Report defaults and colours: a metric that varies, darker is worse, fixed colours",
          "[report]") {
  SECTION("only lr swept: the gradient ratio at init is constant, so another metric is shown") {
    const ReportData d = fake_runs({"train.lr"}, {"grad_ratio_log10_init", "units_died_fraction"},
                                   {{"0.01", "-1.5", "0"}, {"0.1", "-1.5", "0.4"}});
    CHECK(plan_report(d, {}).metric == "units_died_fraction");
    const ReportData v =
        fake_runs({"model.depth"}, {"grad_ratio_log10_init", "units_died_fraction"},
                  {{"2", "-1.5", "0"}, {"8", "-4", "0.4"}});
    CHECK(plan_report(v, {}).metric == "grad_ratio_log10_init");
  }
  SECTION("one colour per activation whatever the order of the sweep") {
    const ReportData a =
        fake_runs({"model.activation"}, {"final_loss"}, {{"relu", "1"}, {"tanh", "1"}});
    const ReportData b = fake_runs({"model.activation"}, {"final_loss"},
                                   {{"tanh", "1"}, {"sigmoid", "1"}, {"relu", "1"}});
    const LineGroup ga = plan_report(a, {}).groups.at(0), gb = plan_report(b, {}).groups.at(0);
    CHECK(ga.styles.at(0) == gb.styles.at(2));  // relu
    CHECK(ga.styles.at(1) == gb.styles.at(0));  // tanh
    CHECK(gb.styles.at(0) != gb.styles.at(1));
  }
  SECTION("numbers as line labels carry their key") {
    const ReportData d = fake_runs({"train.clip_norm"}, {"final_loss"}, {{"0", "1"}, {"1", "2"}});
    CHECK(plan_report(d, {}).groups.at(0).lines ==
          std::vector<std::string>{"clip_norm=0", "clip_norm=1"});
  }
  SECTION("more dead is darker, more gradient is brighter; colour bars labelled at both ends") {
    Pivot p;
    p.row_values = {""};
    p.col_values = {"a", "b"};
    p.cells.assign(1, std::vector<PivotCell>(2));
    p.cells[0][0].runs = p.cells[0][1].runs = 1;
    p.cells[0][0].mean = 0, p.cells[0][1].mean = 0.37;
    const auto fills = [](const std::string& svg) {
      std::vector<std::string> out;
      const std::regex cell("class=\"cell\"[^>]*fill=\"(#[0-9a-f]{6})\"");
      for (auto it = std::sregex_iterator(svg.begin(), svg.end(), cell);
           it != std::sregex_iterator(); ++it)
        out.push_back((*it)[1]);
      return out;
    };
    p.metric = "units_died_fraction";
    const std::string dead = pivot_heatmap(p, "dead", 0, 0.37);
    REQUIRE(fills(dead).size() == 2);
    CHECK(fill_luminance(fills(dead)[1]) < fill_luminance(fills(dead)[0]));
    CHECK(dead.find("class=\"bar-end\">0.37<") != std::string::npos);
    CHECK(dead.find("class=\"bar-end\">0<") != std::string::npos);
    p.metric = "grad_ratio_log10_init";
    const std::string ratio = pivot_heatmap(p, "ratio", 0, 0.37);
    CHECK(fill_luminance(fills(ratio)[1]) > fill_luminance(fills(ratio)[0]));
  }
  SECTION("a long title is squeezed to the figure, never cut off") {
    Pivot p;
    p.row_values = p.col_values = {""};
    p.cells.assign(1, std::vector<PivotCell>(1));
    const std::string title = "theory_grad_ratio_log10, clip_norm = 0";
    const std::string map = pivot_heatmap(p, title, 0, 1);
    std::smatch m;
    REQUIRE(std::regex_search(map, m, std::regex("width=\"([0-9.]+)\"")));
    CHECK(std::stod(m[1]) >= 9.4 * double(title.size()));
    svg::LinePlot plot;
    plot.title = "a title far too long for a plot four hundred pixels wide, by a lot";
    CHECK(svg::line_plot(plot).find("textLength=") != std::string::npos);
  }
  SECTION("axis labels of any length stay inside the figure") {
    // Where a label's text starts and ends in the figure: its centre plus the plot group's
    // offset, and the squeezed length when it has one, else 7.8 px per character (14 px).
    for (const std::size_t chars : {10, 36, 45, 60, 120}) {
      svg::LinePlot plot;
      plot.x_label = std::string(chars, 'x');
      plot.y_label = std::string(chars, 'y');
      plot.series.push_back({"s", {1, 2}, {1, 2}});
      const std::string out = svg::line_plot(plot);
      std::smatch g, x, y;
      REQUIRE(std::regex_search(out, g, std::regex("<g transform=\"translate\\(([0-9.]+),([0-9.]+)\\)\"")));
      const double left = std::stod(g[1]), top = std::stod(g[2]);
      const std::string length = "(?: textLength=\"([0-9.]+)\")?[^>]*>";
      REQUIRE(std::regex_search(out, x, std::regex("<text x=\"([-0-9.]+)\" y=\"[-0-9.]+\" "
                                                   "text-anchor=\"middle\" font-size=\"14\"" +
                                                   length + "x+<")));
      REQUIRE(std::regex_search(out, y, std::regex("translate\\(-56,([-0-9.]+)\\) rotate\\(-90\\)\" "
                                                   "text-anchor=\"middle\" font-size=\"14\"" +
                                                   length + "y+<")));
      const auto extent = [&](const std::ssub_match& squeezed) {
        return squeezed.matched ? std::stod(squeezed) : 7.8 * double(chars);
      };
      INFO(chars << " characters");
      const double xc = left + std::stod(x[1]), xw = extent(x[2]);
      CHECK(xc - xw / 2 >= 0);
      CHECK(xc + xw / 2 <= plot.width);
      const double yc = top + std::stod(y[1]), yw = extent(y[2]);
      CHECK(yc - yw / 2 >= 0);
      CHECK(yc + yw / 2 <= plot.height);
      CHECK((x[2].matched || xw <= plot.width - 16));  // squeezed only when it must be
    }
  }
}

TEST_CASE("Each activation shows the unit measures that mean something for it", "[report]") {
  using F = FractionKind;
  const auto kinds = [](Activation a) {
    RunData r;
    r.activation_known = true;
    r.activation_spec = {a, 0.01};
    return unit_measures(r).kinds;
  };
  CHECK(kinds(Activation::relu) == std::vector<F>{F::dead, F::saturated});
  CHECK(kinds(Activation::leaky_relu) == std::vector<F>{F::inactive});
  CHECK(kinds(Activation::sigmoid) == std::vector<F>{F::saturated});
  CHECK(kinds(Activation::tanh) == std::vector<F>{F::saturated});
  CHECK(kinds(Activation::identity).empty());
  CHECK(unit_measures(RunData{}).kinds.size() == 3);  // unknown activation: all of them
}

TEST_CASE("Report text: caveats said once, code kept whole, a single run named", "[report]") {
  TempDir dir("report-text");
  const std::string sweep = make_results(dir, kSweepConfig, "tiny_sweep");
  const std::string page = report_of(sweep, dir.file("s.html"));
  // Both lines of each of the 4 groups share the width caveat: it appears once per group.
  const std::size_t groups = count(page, "<b>Where the prediction holds.</b>");
  CHECK(groups == 4);
  CHECK(count(page, "narrowest hidden layer has 8 units") == groups);
  CHECK(page.find("code { font-size: 14px; white-space: nowrap; }") != std::string::npos);
  const std::string run = run_tiny(dir, "tiny", "");
  const std::string single = report_of(run, dir.file("r.html"));
  CHECK(single.find("<td>run</td>") == std::string::npos);
  CHECK(single.find("<td>tiny</td>") != std::string::npos);
  CHECK(single.find("(run, ") == std::string::npos);
}

TEST_CASE("Sweep progress: one line with runs done, runs in flight and an ETA",
          "[report][progress]") {
  cli::SweepProgress progress(4, 1, 100, false);
  progress.step("aa", 50, 100);
  progress.step("bb", 10, 100);
  // 60 steps seen; left: 50 + 90 in flight and one waiting run of 100.
  const auto later = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  const std::string line = progress.line(later);
  INFO(line);
  CHECK(line.rfind("[1/4 runs] running aa 50/100, bb 10/100 | ETA ", 0) == 0);
  const std::string eta = line.substr(line.find("ETA ") + 4);
  CHECK((eta == "24s" || eta == "23s" || eta == "25s"));
  progress.step("aa", -1, 100);
  progress.run_done(2);
  CHECK(progress.line(later).rfind("[2/4 runs] running bb 10/100 | ETA", 0) == 0);
  CHECK(cli::format_duration(185) == "3m05s");
  CHECK(cli::format_duration(7800) == "2h10m");

  SECTION("the runner reports every step of every run, then the run's end") {
    TempDir dir("progress-runner");
    const SweepPlan plan = expand_sweep(Json::parse(kSweepConfig), "tiny_sweep.json");
    std::mutex mutex;
    std::map<std::string, std::vector<long>> seen;
    SweepEvents events;
    events.on_step = [&](const RunSpec& spec, long step, long) {
      const std::lock_guard<std::mutex> lock(mutex);
      seen[spec.id].push_back(step);
    };
    SweepOptions options;
    options.jobs = 2;
    (void)run_sweep(plan, dir.file("s"), options, events);
    REQUIRE(seen.size() == plan.runs.size());
    for (const auto& [id, steps] : seen) {
      INFO(id);
      CHECK(steps.back() == -1);
      CHECK(steps[steps.size() - 2] + 1 == 8);  // the last of the 8 training steps
    }
  }
}

TEST_CASE("Every docs/ page cited in the code, scripts and docs exists", "[docs]") {
  namespace fs = std::filesystem;
  const fs::path root = GRADFLOW_SOURCE_DIR;
  const std::regex cited("docs/([A-Za-z0-9_.-]+\\.md)");
  std::size_t citations = 0;
  for (const char* folder : {"harness", "tests", "scripts", "fuzz", "benchmarks", "docs", "."}) {
    const fs::path dir = root / folder;
    if (!fs::exists(dir)) continue;
    const auto check = [&](const fs::path& file) {
      const std::string ext = file.extension().string();
      if (ext != ".cpp" && ext != ".hpp" && ext != ".sh" && ext != ".py" && ext != ".md") return;
      const std::string text = read_text(file.string());
      for (auto it = std::sregex_iterator(text.begin(), text.end(), cited);
           it != std::sregex_iterator(); ++it) {
        ++citations;
        INFO(file.string() << " cites docs/" << (*it)[1]);
        CHECK(fs::exists(root / "docs" / std::string((*it)[1])));
      }
    };
    if (std::string(folder) == ".") {  // the top level only: README.md and friends
      for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file()) check(e.path());
    } else {
      for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) check(e.path());
    }
  }
  CHECK(citations > 10);
}
