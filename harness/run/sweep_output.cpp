// Sweep manifest and tables; see sweep_output.hpp.
#include "run/sweep_output.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/verdict.hpp"
#include "base/atomic_file.hpp"
#include "base/csv_table.hpp"
#include "config/config_reader.hpp"
#include "base/errors.hpp"
#include "io/writers.hpp"

namespace gradflow {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A CSV field for a swept value: numbers and strings as written; anything containing a comma
// or a quote (objects, lists) is quoted with doubled quotes (RFC 4180), which pandas reads.
std::string csv_cell(const Json& v) {
  std::string text = v.is_string() ? v.get<std::string>()
                     : v.is_number_float() ? format_number(v.get<double>())
                                           : v.dump();
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string summary_cell(const Json& v) {
  if (v.is_null()) return "nan";
  if (v.is_number_float()) return format_number(v.get<double>());
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// Appends a run's CSV without its header, each line prefixed by "<id>,".
void append_prefixed(std::string& out, const std::string& file, const std::string& id) {
  const std::string text = read_all(file);
  std::size_t pos = text.find('\n');
  if (pos == std::string::npos) return;
  ++pos;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out += id;
    out += ',';
    out.append(text, pos, end - pos);
    out += '\n';
    pos = end + 1;
  }
}

// The summary's verdict and verdicts judged again from its indicators (null: NaN).
void rejudge_summary(Json& summary, const VerdictConfig& thresholds) {
  const RunSummary in = indicators_from(
      summary.value("status", std::string()), [&](std::string_view name) {
        const auto it = summary.find(std::string(name));
        if (it == summary.end()) return kNaN;
        if (it->is_number()) return it->get<double>();
        // An infinity is written as the string "inf" or "-inf" (writers.cpp).
        const std::optional<double> v =
            it->is_string() ? parse_number(it->get<std::string>()) : std::nullopt;
        return v ? *v : kNaN;
      });
  const std::vector<Verdict> judged = judge_run(in, thresholds);
  summary["verdict"] = kVerdictNames[std::size_t(judged.front())];
  summary["verdicts"] = verdict_list(judged);
}

}  // namespace

const std::vector<std::string_view> kRunSummaryColumns = {
    "status",
    "verdict",
    "verdicts",
    "final_loss",
    "final_accuracy",
    "final_probe_loss",
    "final_probe_accuracy",
    "grad_ratio_log10_init",
    "grad_ratio_log10_final",
    "delta_ratio_log10_init",
    "delta_ratio_log10_final",
    "theory_grad_ratio_log10",
    "theory_delta_ratio_log10",
    "max_dead_fraction_init",
    "max_dead_fraction_final",
    "units_died_fraction",
    "units_revived",
    "diverged_step",
    "grad_norm_init",
    "max_grad_norm",
    "parameters",
};

SweepManifest manifest_from_plan(const SweepPlan& plan, std::size_t shard_index,
                                 std::size_t shard_count) {
  SweepManifest m;
  m.name = plan.name;
  m.swept_keys = plan.swept_keys;
  m.shard_index = shard_index;
  m.shard_count = shard_count;
  if (!plan.runs.empty()) m.verdict = plan.runs.front().config.verdict;  // never swept
  for (const RunSpec& r : plan.runs) {
    Json swept = Json::object();
    for (const SweptValue& v : r.swept) swept[v.key] = v.value;
    m.runs.push_back({r.index, r.id, r.label, std::move(swept)});
  }
  return m;
}

Json manifest_to_json(const SweepManifest& m) {
  Json runs = Json::array();
  for (const ManifestRun& r : m.runs)
    runs.push_back({{"index", r.index}, {"id", r.id}, {"label", r.label}, {"swept", r.swept}});
  return {{"schema_version", 1},
          {"name", m.name},
          {"swept_keys", m.swept_keys},
          {"shard", {{"index", m.shard_index}, {"count", m.shard_count}}},
          {"verdict", verdict_to_json(m.verdict)},
          {"runs", std::move(runs)}};
}

SweepManifest read_manifest(const std::string& sweep_dir) {
  const std::string path = sweep_dir + "/sweep.json";
  const Json j = parse_json_text(read_text_file(path), path);
  try {
    SweepManifest m;
    m.name = j.at("name").get<std::string>();
    m.swept_keys = j.at("swept_keys").get<std::vector<std::string>>();
    m.shard_index = j.at("shard").at("index").get<std::size_t>();
    m.shard_count = j.at("shard").at("count").get<std::size_t>();
    if (j.contains("verdict")) m.verdict = verdict_from_json(j.at("verdict"), path);
    for (const Json& r : j.at("runs"))
      m.runs.push_back({r.at("index").get<std::size_t>(), r.at("id").get<std::string>(),
                        r.at("label").get<std::string>(), r.at("swept")});
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, "", std::string("not a gradflow sweep manifest: ") + e.what());
  }
}

std::string run_folder(const std::string& sweep_dir, const std::string& id) {
  return sweep_dir + "/runs/" + id;
}

bool run_finished(const std::string& run_dir) {
  const std::string path = run_dir + "/summary.json";
  if (!std::filesystem::exists(path)) return false;
  const Json j = Json::parse(read_all(path), nullptr, false);
  return j.is_object() && j.contains("status");
}

TableStats write_sweep_tables(const std::string& sweep_dir, const SweepManifest& manifest,
                              const std::vector<ManifestRun>& runs) {
  std::vector<std::string_view> run_columns = {"run_id", "label"};
  for (const std::string& k : manifest.swept_keys) run_columns.push_back(k);
  std::string runs_csv = csv_header(kRunSummaryColumns, run_columns);
  std::string layers_csv = csv_header(kLayerColumns, {"run_id"});
  std::string steps_csv = csv_header(kStepColumns, {"run_id"});
  std::string lifecycle_csv = csv_header(kLifecycleColumns, {"run_id"});
  TableStats stats;
  for (const ManifestRun& r : runs) {
    const std::string dir = run_folder(sweep_dir, r.id);
    if (!run_finished(dir)) {
      stats.missing.push_back(r.id);
      continue;
    }
    ++stats.finished;
    Json summary = Json::parse(read_all(dir + "/summary.json"));
    rejudge_summary(summary, manifest.verdict);
    runs_csv += r.id + "," + csv_cell(Json(r.label));
    for (const std::string& k : manifest.swept_keys)
      runs_csv += "," + (r.swept.contains(k) ? csv_cell(r.swept.at(k)) : std::string());
    for (std::string_view c : kRunSummaryColumns) {
      const std::string key(c);
      runs_csv += "," + (summary.contains(key) ? summary_cell(summary.at(key)) : "nan");
    }
    runs_csv += '\n';
    append_prefixed(layers_csv, dir + "/layers.csv", r.id);
    append_prefixed(steps_csv, dir + "/steps.csv", r.id);
    append_prefixed(lifecycle_csv, dir + "/lifecycle.csv", r.id);
  }
  write_file_atomic(sweep_dir + "/runs.csv", runs_csv);
  write_file_atomic(sweep_dir + "/layers.csv", layers_csv);
  write_file_atomic(sweep_dir + "/steps.csv", steps_csv);
  write_file_atomic(sweep_dir + "/lifecycle.csv", lifecycle_csv);
  return stats;
}

}  // namespace gradflow
