// Comparison of two results folders; see compare.hpp.
#include "analysis/compare.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <tuple>
#include <unordered_set>

#include "analysis/rejudge.hpp"
#include "config/config.hpp"
#include "base/errors.hpp"
#include "io/writers.hpp"

namespace gradflow {
namespace {

namespace fs = std::filesystem;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string in_dir(const std::string& dir, const char* name) {
  return (fs::path(dir) / name).string();
}

std::string line_of(const CsvTable& t, std::size_t row) {
  return "line " + std::to_string(t.lines[row]);
}

// A summary.json value as the text runs.csv would hold for it.
std::string json_cell(const Json& v) {
  if (v.is_null()) return "";  // our writers put null for NaN and inf
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return format_number(v.get<double>());
  return v.dump();  // integers, booleans; nested values are compared as their text
}

CsvTable summary_as_table(const std::string& path) {
  const Json doc = read_json_file(path);
  if (!doc.is_object()) throw InputError(path, "", "expected a JSON object");
  CsvTable t;
  t.source = path;
  t.header = {"run_id", "label"};
  std::vector<std::string> row = {"run", ""};
  for (const auto& [key, value] : doc.items()) {
    if (key == "run_id" || key == "label") continue;
    t.header.push_back(key);
    row.push_back(json_cell(value));
  }
  t.rows.push_back(std::move(row));
  t.lines.push_back(1);
  return t;
}

void read_manifest(ResultsFolder& f) {
  const std::string path = in_dir(f.dir, "sweep.json");
  const Json doc = read_json_file(path);
  if (!doc.is_object()) throw InputError(path, "", "expected a JSON object");
  if (const auto v = doc.find("schema_version");
      v != doc.end() && !(v->is_number_integer() && v->get<long>() == 1))
    throw InputError(path, "/schema_version", "expected 1, got " + v->dump());
  if (const auto keys = doc.find("swept_keys"); keys != doc.end()) {
    if (!keys->is_array()) throw InputError(path, "/swept_keys", "expected an array of strings");
    for (std::size_t i = 0; i < keys->size(); ++i) {
      if (!(*keys)[i].is_string())
        throw InputError(path, "/swept_keys/" + std::to_string(i), "expected a string");
      f.swept_keys.push_back((*keys)[i].get<std::string>());
    }
  }
  if (const auto runs = doc.find("runs"); runs != doc.end()) {
    if (!runs->is_array()) throw InputError(path, "/runs", "expected an array");
    for (std::size_t i = 0; i < runs->size(); ++i) {
      const Json& run = (*runs)[i];
      if (!run.is_object() || !run.contains("id") || !run["id"].is_string())
        throw InputError(path, "/runs/" + std::to_string(i), "expected an object with an \"id\"");
      f.run_order.emplace(run["id"].get<std::string>(), i);
    }
  }
}

}  // namespace

ResultsFolder load_results_folder(const std::string& dir,
                                  const std::optional<VerdictConfig>& thresholds) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw InputError(dir, "", "no such folder");
  if (!fs::is_directory(dir, ec)) throw InputError(dir, "", "not a folder");
  ResultsFolder f;
  f.dir = dir;
  f.is_sweep = fs::exists(in_dir(dir, "sweep.json"), ec);
  if (f.is_sweep) {
    read_manifest(f);
    f.runs = read_csv_table(in_dir(dir, "runs.csv"));
    const std::size_t id = require_column(f.runs, "run_id");
    std::unordered_map<std::string, std::size_t> seen;
    for (std::size_t r = 0; r < f.runs.rows.size(); ++r) {
      const auto [it, fresh] = seen.emplace(f.runs.rows[r][id], r);
      if (!fresh)
        throw InputError(f.runs.source, "",
                         line_of(f.runs, r) + ": run " + it->first + " appears twice (also " +
                             line_of(f.runs, it->second) + ")");
    }
  } else if (fs::exists(in_dir(dir, "summary.json"), ec)) {
    f.runs = summary_as_table(in_dir(dir, "summary.json"));
  } else {
    throw InputError(dir, "",
                     "not a results folder: expected sweep.json (a sweep) or summary.json "
                     "(a single run)");
  }
  f.thresholds = thresholds ? *thresholds : recorded_thresholds(dir);
  rejudge_runs(f.runs, f.thresholds);
  return f;
}

LoadedResults load_results(const std::string& dir,
                           const std::optional<VerdictConfig>& thresholds) {
  LoadedResults r;
  r.folder = load_results_folder(dir, thresholds);
  r.layers = read_csv_table(in_dir(dir, "layers.csv"));
  r.steps = read_csv_table(in_dir(dir, "steps.csv"));
  std::error_code ec;
  if (fs::exists(in_dir(dir, "lifecycle.csv"), ec))
    r.lifecycle = read_csv_table(in_dir(dir, "lifecycle.csv"));
  return r;
}

bool values_match(double baseline, double current, const CompareOptions& options) {
  if (std::isnan(baseline) || std::isnan(current))
    return std::isnan(baseline) && std::isnan(current);
  if (std::isinf(baseline) || std::isinf(current)) return baseline == current;
  return std::abs(current - baseline) <= options.atol + options.rtol * std::abs(baseline);
}

double drift_severity(const Drift& d) { return std::isnan(d.rel_diff) ? kInf : d.rel_diff; }

CompareOutcome compare_outcome(const CompareReport& report) {
  if (!report.missing_in_new.empty()) return CompareOutcome::runs_missing;
  if (!report.drifts.empty()) return CompareOutcome::drifted;
  return CompareOutcome::within_tolerance;
}

namespace {

// Columns holding words, compared exactly even where a word would parse as a number
// ("nan" vs an empty verdict is a change of verdict).
const std::unordered_set<std::string_view> kTextColumns = {"status", "verdict", "verdicts",
                                                           "kind",   "label",   "diverged_reason"};

struct CellDiff {
  DriftKind kind;
  double abs_diff;
  double rel_diff;
};

std::optional<CellDiff> cell_diff(std::string_view column, const std::string& baseline,
                                  const std::string& current, const CompareOptions& options) {
  if (!kTextColumns.contains(column)) {
    const std::optional<double> b = parse_number(baseline);
    const std::optional<double> c = parse_number(current);
    if (b && c) {
      if (values_match(*b, *c, options)) return std::nullopt;
      if (std::isnan(*b) || std::isnan(*c)) return CellDiff{DriftKind::value, kNaN, kNaN};
      const double abs_diff = std::abs(*c - *b);
      const double rel_diff = std::isfinite(*b) && *b != 0 ? abs_diff / std::abs(*b) : kInf;
      return CellDiff{DriftKind::value, abs_diff, rel_diff};
    }
  }
  if (baseline == current) return std::nullopt;
  return CellDiff{DriftKind::text, kNaN, kNaN};
}

double abs_severity(const Drift& d) { return std::isnan(d.abs_diff) ? kInf : d.abs_diff; }

bool worse(const Drift& a, const Drift& b) {
  if (drift_severity(a) != drift_severity(b)) return drift_severity(a) > drift_severity(b);
  return abs_severity(a) > abs_severity(b);
}

// How one file is keyed: rows of a run are identified by `keys` (besides run_id).
struct TableSpec {
  std::string file;
  bool has_run_column = true;  // false for a single run's layers.csv / steps.csv
  std::vector<std::string> keys;
  std::unordered_set<std::string> skip;  // identity columns that are not compared
};

struct IndexedTable {
  const CsvTable* table = nullptr;
  std::vector<std::size_t> key_columns;
  std::unordered_map<std::string, std::vector<std::size_t>> rows_by_run;  // file order
};

IndexedTable index_table(const CsvTable& t, const TableSpec& spec) {
  IndexedTable idx;
  idx.table = &t;
  for (const std::string& k : spec.keys) idx.key_columns.push_back(require_column(t, k));
  if (!spec.has_run_column) {  // a single run's file: every row is run "run"
    auto& rows = idx.rows_by_run["run"];
    for (std::size_t r = 0; r < t.rows.size(); ++r) rows.push_back(r);
    return idx;
  }
  const std::size_t run = require_column(t, "run_id");
  for (std::size_t r = 0; r < t.rows.size(); ++r) idx.rows_by_run[t.rows[r][run]].push_back(r);
  return idx;
}

std::string row_key(const IndexedTable& idx, std::size_t row) {
  std::string key;
  for (std::size_t c : idx.key_columns) (key += idx.table->rows[row][c]) += '\x1f';
  return key;
}

// step and layer of a row, for the report.
void locate(Drift& d, const IndexedTable& idx, const TableSpec& spec, std::size_t row) {
  for (std::size_t k = 0; k < spec.keys.size(); ++k) {
    const std::string& cell = idx.table->rows[row][idx.key_columns[k]];
    if (spec.keys[k] == "step") d.step = cell;
    if (spec.keys[k] == "layer") d.layer = cell;
  }
}

// key -> row of one run, refusing duplicates (a resumed writer appending a row twice).
std::unordered_map<std::string, std::size_t> rows_by_key(const IndexedTable& idx,
                                                         const std::vector<std::size_t>& rows,
                                                         const std::string& run) {
  std::unordered_map<std::string, std::size_t> by_key;
  for (std::size_t r : rows) {
    const auto [it, fresh] = by_key.emplace(row_key(idx, r), r);
    if (!fresh)
      throw InputError(idx.table->source, "",
                       line_of(*idx.table, r) + ": duplicate row for run " + run + " (also " +
                           line_of(*idx.table, it->second) + ")");
  }
  return by_key;
}

struct Accumulator {
  const CompareOptions& options;
  const std::unordered_map<std::string, std::string>& labels;
  CompareReport& report;
  std::unordered_set<std::string> drifted_runs;
  bool column_missing = false;
};

void compare_table(const CsvTable& base, const CsvTable& cur, const TableSpec& spec,
                   const std::vector<std::string>& runs, Accumulator& acc) {
  const IndexedTable bi = index_table(base, spec);
  const IndexedTable ci = index_table(cur, spec);
  std::unordered_set<std::string> identity(spec.skip);
  identity.insert(spec.keys.begin(), spec.keys.end());
  if (spec.has_run_column) identity.insert("run_id");

  std::vector<std::pair<std::size_t, std::size_t>> pairs;  // (baseline, current) column
  for (std::size_t b = 0; b < base.header.size(); ++b) {
    const std::string& name = base.header[b];
    if (identity.contains(name)) continue;
    if (const std::optional<std::size_t> c = find_column(cur, name)) {
      pairs.emplace_back(b, *c);
    } else {
      Drift d;
      d.kind = DriftKind::column_missing;
      d.file = spec.file;
      d.column = name;
      d.count = runs.size();
      acc.report.drifts.push_back(std::move(d));
      acc.column_missing = true;
    }
  }
  for (const std::string& name : cur.header)
    if (!identity.contains(name) && !find_column(base, name))
      acc.report.columns_only_in_new.push_back(spec.file + ":" + name);

  static const std::vector<std::size_t> kNoRows;
  for (const std::string& run : runs) {
    const auto b_it = bi.rows_by_run.find(run);
    const auto c_it = ci.rows_by_run.find(run);
    const std::vector<std::size_t>& b_rows = b_it == bi.rows_by_run.end() ? kNoRows : b_it->second;
    const std::vector<std::size_t>& c_rows = c_it == ci.rows_by_run.end() ? kNoRows : c_it->second;
    rows_by_key(bi, b_rows, run);  // only to refuse duplicates in the baseline
    std::unordered_map<std::string, std::size_t> unmatched = rows_by_key(ci, c_rows, run);

    const auto start = [&](DriftKind kind) {
      Drift d;
      d.kind = kind;
      d.run_id = run;
      d.label = acc.labels.at(run);
      d.file = spec.file;
      d.count = 0;
      return d;
    };
    std::vector<Drift> worst(pairs.size(), start(DriftKind::value));
    Drift missing = start(DriftKind::row_missing);
    for (std::size_t r : b_rows) {
      const auto match = unmatched.find(row_key(bi, r));
      if (match == unmatched.end()) {
        if (missing.count++ == 0) locate(missing, bi, spec, r);
        continue;
      }
      const std::vector<std::string>& b_row = base.rows[r];
      const std::vector<std::string>& c_row = cur.rows[match->second];
      for (std::size_t j = 0; j < pairs.size(); ++j) {
        ++acc.report.values_compared;
        const std::string& b_cell = b_row[pairs[j].first];
        const std::string& c_cell = c_row[pairs[j].second];
        const std::optional<CellDiff> diff =
            cell_diff(base.header[pairs[j].first], b_cell, c_cell, acc.options);
        if (!diff) continue;
        ++acc.report.values_drifted;
        Drift candidate = start(diff->kind);
        candidate.column = base.header[pairs[j].first];
        locate(candidate, bi, spec, r);
        candidate.baseline = b_cell;
        candidate.current = c_cell;
        candidate.abs_diff = diff->abs_diff;
        candidate.rel_diff = diff->rel_diff;
        candidate.count = worst[j].count + 1;
        if (worst[j].count == 0 || worse(candidate, worst[j]))
          worst[j] = std::move(candidate);
        else
          ++worst[j].count;
      }
      unmatched.erase(match);
    }
    Drift added = start(DriftKind::row_added);
    for (std::size_t r : c_rows)  // file order, so the first extra row is located
      if (unmatched.contains(row_key(ci, r)) && added.count++ == 0) locate(added, ci, spec, r);

    worst.push_back(std::move(missing));
    worst.push_back(std::move(added));
    for (Drift& d : worst) {
      if (d.count == 0) continue;
      acc.report.drifts.push_back(std::move(d));
      acc.drifted_runs.insert(run);
    }
  }
}

std::unordered_map<std::string, std::size_t> run_rows(const CsvTable& runs) {
  const std::size_t id = require_column(runs, "run_id");
  std::unordered_map<std::string, std::size_t> rows;
  for (std::size_t r = 0; r < runs.rows.size(); ++r) rows.emplace(runs.rows[r][id], r);
  return rows;
}

std::string label_of(const CsvTable& runs, std::size_t row) {
  const std::optional<std::size_t> label = find_column(runs, "label");
  return label ? runs.rows[row][*label] : "";
}

}  // namespace

CompareReport compare_loaded(const LoadedResults& baseline, const LoadedResults& current,
                             const CompareOptions& options) {
  const ResultsFolder& bf = baseline.folder;
  const ResultsFolder& cf = current.folder;
  if (bf.is_sweep != cf.is_sweep)
    throw InputError(cf.dir, "",
                     std::string(cf.is_sweep ? "is a sweep" : "is a single run") +
                         " but the baseline " + bf.dir +
                         (bf.is_sweep ? " is a sweep" : " is a single run"));

  CompareReport report;
  std::unordered_map<std::string, std::string> labels;
  std::vector<std::string> common;  // baseline order
  const auto cur_rows = run_rows(cf.runs);
  const std::size_t b_id = require_column(bf.runs, "run_id");
  for (std::size_t r = 0; r < bf.runs.rows.size(); ++r) {
    const std::string& id = bf.runs.rows[r][b_id];
    labels[id] = label_of(bf.runs, r);
    if (cur_rows.contains(id))
      common.push_back(id);
    else
      report.missing_in_new.push_back({id, labels[id]});
  }
  const std::size_t c_id = require_column(cf.runs, "run_id");
  for (std::size_t r = 0; r < cf.runs.rows.size(); ++r)
    if (!labels.contains(cf.runs.rows[r][c_id]))
      report.only_in_new.push_back({cf.runs.rows[r][c_id], label_of(cf.runs, r)});
  report.runs_compared = common.size();

  Accumulator acc{options, labels, report, {}, false};
  TableSpec runs_spec{bf.is_sweep ? "runs.csv" : "summary.json", true, {}, {"label"}};
  runs_spec.skip.insert(bf.swept_keys.begin(), bf.swept_keys.end());
  runs_spec.skip.insert(cf.swept_keys.begin(), cf.swept_keys.end());
  compare_table(bf.runs, cf.runs, runs_spec, common, acc);
  compare_table(baseline.layers, current.layers,
                TableSpec{"layers.csv", bf.is_sweep, {"step", "layer"}, {}}, common, acc);
  compare_table(baseline.steps, current.steps, TableSpec{"steps.csv", bf.is_sweep, {"step"}, {}},
                common, acc);
  if (baseline.lifecycle && current.lifecycle)
    compare_table(*baseline.lifecycle, *current.lifecycle,
                  TableSpec{"lifecycle.csv", bf.is_sweep, {"layer"}, {}}, common, acc);
  else if (baseline.lifecycle || current.lifecycle)
    report.files_not_compared.push_back(std::string("lifecycle.csv: only in ") +
                                        (baseline.lifecycle ? "the baseline" : "the new results"));

  report.runs_drifted = acc.column_missing ? common.size() : acc.drifted_runs.size();
  std::stable_sort(report.drifts.begin(), report.drifts.end(), [](const Drift& a, const Drift& b) {
    if (worse(a, b)) return true;
    if (worse(b, a)) return false;
    return std::tie(a.run_id, a.file, a.column) < std::tie(b.run_id, b.file, b.column);
  });
  return report;
}

CompareReport compare_results(const std::string& baseline_dir, const std::string& new_dir,
                              const CompareOptions& options) {
  const VerdictConfig thresholds =
      thresholds_with_overrides(recorded_thresholds(new_dir), options.verdict_overrides);
  const LoadedResults baseline = load_results(baseline_dir, thresholds);
  const LoadedResults current = load_results(new_dir, thresholds);
  return compare_loaded(baseline, current, options);
}

}  // namespace gradflow
