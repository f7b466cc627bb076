// Verdicts judged again from recorded indicators; see rejudge.hpp.
#include "analysis/rejudge.hpp"

#include <filesystem>
#include <optional>

#include "analysis/verdict.hpp"
#include "base/errors.hpp"
#include "config/config_reader.hpp"

namespace gradflow {
namespace {

std::optional<std::size_t> column(const CsvTable& t, std::string_view name) {
  for (std::size_t c = 0; c < t.header.size(); ++c)
    if (t.header[c] == name) return c;
  return std::nullopt;
}

double number_cell(const std::string& cell) {
  const std::optional<double> v = parse_number(cell);
  return v ? *v : kNaN;
}

}  // namespace

VerdictConfig recorded_thresholds(const std::string& dir) {
  std::error_code ec;
  for (const char* name : {"sweep.json", "config.json"}) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    if (!std::filesystem::exists(path, ec)) continue;
    const Json doc = parse_json_text(read_text_file(path), path);
    if (!doc.is_object() || !doc.contains("verdict")) return VerdictConfig{};
    return verdict_from_json(doc.at("verdict"), path);
  }
  return VerdictConfig{};
}

VerdictConfig thresholds_with_overrides(const VerdictConfig& recorded,
                                        const std::vector<std::string>& overrides) {
  if (overrides.empty()) return recorded;
  Json doc = {{"verdict", verdict_to_json(recorded)}};
  for (const std::string& o : overrides) {
    if (o.rfind("verdict.", 0) != 0)
      throw InputError("--set", "",
                       "only verdict thresholds (verdict.KEY=VALUE) can be set here, got \"" +
                           o + "\"");
    apply_override(doc, o);
  }
  return verdict_from_json(doc.at("verdict"), "--set");
}

void rejudge_runs(CsvTable& runs, const VerdictConfig& thresholds) {
  const std::optional<std::size_t> verdict = column(runs, "verdict"),
                                   verdicts = column(runs, "verdicts"),
                                   status = column(runs, "status");
  if (!status || (!verdict && !verdicts)) return;
  for (std::vector<std::string>& row : runs.rows) {
    const RunSummary in = indicators_from(row[*status], [&](std::string_view name) {
      const std::optional<std::size_t> c = column(runs, name);
      return c ? number_cell(row[*c]) : kNaN;
    });
    const std::vector<Verdict> judged = judge_run(in, thresholds);
    if (verdict) row[*verdict] = std::string(kVerdictNames[std::size_t(judged.front())]);
    if (verdicts) row[*verdicts] = verdict_list(judged);
  }
}

}  // namespace gradflow
