// Figures as files; see figure_files.hpp.
#include "report/figure_files.hpp"

#include <cctype>
#include <cstdio>

namespace gradflow {
namespace {

// Lower-case ASCII letters and digits of the title, runs of anything else as one '-'. Non-ASCII
// symbols (norm bars, Greek letters) are dropped, so names stay portable.
std::string slug(std::string title) {
  // The report's symbols as words first, so "‖∂L/∂W‖ per layer" and "‖δ‖ per layer" differ.
  static const std::pair<const char*, const char*> kWords[] = {
      {"\xE2\x80\x96\xE2\x88\x82L/\xE2\x88\x82W\xE2\x80\x96", "grad_w"},
      {"\xE2\x80\x96\xCE\xB4\xE2\x80\x96", "delta"},
      {"\xCF\x86\xE2\x80\xB2", "dphi"},
      {"\xCF\x86", "phi"}};
  for (const auto& [symbol, word] : kWords)
    for (std::size_t at; (at = title.find(symbol)) != std::string::npos;)
      title.replace(at, std::string(symbol).size(), word);
  std::string out;
  for (unsigned char c : title) {
    if (std::isalnum(c) && c < 0x80)
      out += char(std::tolower(c));
    else if (!out.empty() && out.back() != '-')
      out += '-';
    if (out.size() >= 60) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "figure" : out;
}

std::string attribute(const std::string& tag, const std::string& name) {
  const std::size_t at = tag.find(" " + name + "=\"");
  if (at == std::string::npos) return "";
  const std::size_t start = at + name.size() + 3;
  return tag.substr(start, tag.find('"', start) - start);
}

// &amp; and friends back to text, for the slug.
std::string unescaped(std::string s) {
  for (const auto& [entity, c] :
       {std::pair{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}}) {
    for (std::size_t at; (at = s.find(entity)) != std::string::npos;)
      s.replace(at, std::string(entity).size(), c);
  }
  return s;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> standalone_figures(const std::string& page) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t depth = 0, start = 0;
  for (std::size_t i = page.find('<'); i != std::string::npos; i = page.find('<', i + 1)) {
    const bool open = page.compare(i, 5, "<svg ") == 0 || page.compare(i, 5, "<svg>") == 0;
    const bool close = page.compare(i, 6, "</svg>") == 0;
    if (open && depth++ == 0) start = i;
    if (close && depth > 0 && --depth == 0) {
      const std::string svg = page.substr(start, i + 6 - start);
      const std::string tag = svg.substr(0, svg.find('>'));
      char number[16];
      std::snprintf(number, sizeof number, "%03zu-", out.size() + 1);
      out.emplace_back(std::string(number) + slug(unescaped(attribute(tag, "aria-label"))) + ".svg",
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg + "\n");
    }
  }
  return out;
}

}  // namespace gradflow
