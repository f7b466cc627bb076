// Helpers shared by the report tests: an XML well-formedness checker, counting, picking one
// figure out of a page, and small run and sweep configs made into results folders.
#pragma once

#include <catch2/catch.hpp>
#include <cctype>
#include <regex>
#include <string>
#include <vector>

#include "report/report_data.hpp"
#include "support.hpp"

namespace gradflow::test {

// A small XML well-formedness checker: balanced, properly nested tags, quoted attributes,
// only XML's own entities or numeric references, no stray '<' or '&'. Returns "" when the
// text is well-formed, else what is wrong and where.
inline std::string xml_problem(const std::string& s) {
  std::vector<std::string> open;
  std::size_t roots = 0;
  const auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' ||
           c == '.';
  };
  const auto entity_ok = [&](std::size_t i) {  // s[i] == '&'
    static const std::regex entity("^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);");
    return std::regex_search(s.substr(i, 16), entity);
  };
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '&') {
      if (!entity_ok(i)) return "bad entity at " + std::to_string(i);
      ++i;
      continue;
    }
    if (s[i] != '<') {
      ++i;
      continue;
    }
    if (s.compare(i, 4, "<!--") == 0) {
      const std::size_t end = s.find("-->", i);
      if (end == std::string::npos) return "unclosed comment";
      i = end + 3;
      continue;
    }
    if (s.compare(i, 2, "<!") == 0 || s.compare(i, 2, "<?") == 0) {
      if (!open.empty() || roots) return "declaration inside the document at " + std::to_string(i);
      i = s.find('>', i);
      if (i == std::string::npos) return "unclosed declaration";
      ++i;
      continue;
    }
    const bool closing = s.compare(i, 2, "</") == 0;
    std::size_t j = i + (closing ? 2 : 1);
    const std::size_t name_start = j;
    while (j < s.size() && name_char(s[j])) ++j;
    const std::string name = s.substr(name_start, j - name_start);
    if (name.empty()) return "stray '<' at " + std::to_string(i);
    if (closing) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j >= s.size() || s[j] != '>') return "bad closing tag </" + name;
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes <" + (open.empty() ? "nothing" : open.back()) + ">";
      open.pop_back();
      i = j + 1;
      continue;
    }
    // Attributes: name="value" or name='value', separated by spaces.
    for (;;) {
      const std::size_t before = j;
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j >= s.size()) return "unclosed tag <" + name;
      if (s[j] == '>' || s.compare(j, 2, "/>") == 0) break;
      if (j == before) return "attributes not separated in <" + name;
      const std::size_t attr_start = j;
      while (j < s.size() && name_char(s[j])) ++j;
      if (j == attr_start || j >= s.size() || s[j] != '=') return "bad attribute in <" + name;
      const char quote = s[++j];
      if (quote != '"' && quote != '\'') return "unquoted attribute in <" + name;
      const std::size_t end = s.find(quote, j + 1);
      if (end == std::string::npos) return "unclosed attribute in <" + name;
      for (std::size_t k = j + 1; k < end; ++k) {
        if (s[k] == '<') return "'<' in an attribute of <" + name;
        if (s[k] == '&' && !entity_ok(k)) return "bad entity in an attribute of <" + name;
      }
      j = end + 1;
    }
    if (open.empty() && ++roots > 1) return "a second root element <" + name + ">";
    if (s[j] == '>') {
      open.push_back(name);
      i = j + 1;
    } else {
      i = j + 2;
    }
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return roots == 1 ? "" : "no root element";
}

inline std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The <svg>...</svg> figure whose aria-label is `label` (figures do not nest other figures
// except the plotting area, whose own </svg> comes first).
inline std::string figure(const std::string& page, const std::string& label) {
  const std::size_t start = page.find("aria-label=\"" + label + "\"");
  if (start == std::string::npos) return "";
  const std::size_t inner_end = page.find("</svg>", start);
  std::size_t end = page.find("</svg>", inner_end + 1);
  const std::size_t next = page.find("<svg", start + 1);
  if (next == std::string::npos || next > inner_end) end = inner_end;  // no nested plot area
  return page.substr(start, end - start);
}

inline const char* kRunConfig = R"({
  "name": "tiny",
  "seed": 3,
  "data": {"kind": "gaussian_mixture", "dim": 4, "classes": 3, "train_size": 96, "probe_size": 32},
  "model": {"depth": 3, "width": 8, "activation": "relu", "init": "he_normal"},
  "train": {"optimizer": "sgd", "lr": 0.05, "steps": 12, "batch_size": 16},
  "log": {"every": 4}
})";

// depth x lr x (activation, init) zipped: 8 runs; the heatmaps put depth on rows, lr on
// columns and one panel per activation; the gradient plots one line per activation.
inline const char* kSweepConfig = R"({
  "name": "tiny_sweep",
  "seed": 5,
  "data": {"kind": "gaussian_mixture", "dim": 4, "classes": 3, "train_size": 96, "probe_size": 32},
  "model": {"width": 8},
  "train": {"optimizer": "sgd", "steps": 8, "batch_size": 16},
  "log": {"every": 4},
  "sweep": {
    "model.depth": [2, 3],
    "train.lr": [0.01, 0.1],
    "zip": [{"model.activation": ["relu", "tanh"], "model.init": ["he_normal", "xavier_normal"]}]
  }
})";

inline std::string make_results(const TempDir& dir, const char* config, const std::string& name) {
  write_text(dir.file(name + ".json"), config);
  const auto r =
      gradflow_cli("run " + dir.file(name + ".json") + " --out " + dir.file(name) + " --jobs 2 -q");
  INFO(r.output);
  REQUIRE(r.code == 0);
  return dir.file(name);
}

// A fake sweep with runs.csv rows: swept key values and metric columns, one run per row.
inline ReportData fake_runs(const std::vector<std::string>& keys, const std::vector<std::string>& metrics,
                     const std::vector<std::vector<std::string>>& rows) {
  ReportData d;
  d.name = "fake";
  d.swept_keys = keys;
  d.folder.is_sweep = true;
  d.folder.dir = "fake";
  d.folder.swept_keys = keys;
  d.folder.runs.header = {"run_id", "label"};
  for (const std::string& k : keys) d.folder.runs.header.push_back(k);
  for (const std::string& k : metrics) d.folder.runs.header.push_back(k);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    RunData run;
    run.id = "run" + std::to_string(r);
    run.swept.assign(rows[r].begin(), rows[r].begin() + long(keys.size()));
    d.runs.push_back(run);
    std::vector<std::string> row = {run.id, ""};
    row.insert(row.end(), rows[r].begin(), rows[r].end());
    d.folder.runs.rows.push_back(row);
    d.folder.runs.lines.push_back(r + 2);
  }
  return d;
}

}  // namespace gradflow::test
