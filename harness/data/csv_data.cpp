// CSV data sets. Format: a header row naming the columns, then one example per record; fields
// separated by commas, surrounding spaces/tabs ignored, a field may be wrapped in double quotes
// and then hold commas, quotes ("") and newlines (RFC 4180, base/csv_table.hpp); blank lines,
// CRLF line ends and a UTF-8 BOM are tolerated. Only the columns the config uses are parsed as
// numbers, so others may hold text. Class labels are integers; the classes are the labels
// present (0..K-1, no gaps) unless data.classes says how many there are.
#include "data/csv_data.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "base/csv_table.hpp"
#include "base/errors.hpp"
#include "base/path_kind.hpp"
#include "base/memory.hpp"
#include "nn/rng.hpp"

namespace gradflow {
namespace {

// Hostile or mistaken inputs (a multi-gigabyte log, a huge label) fail with a clear message
// instead of exhausting memory: the rows are counted first and the memory they would take is
// compared with the machine's (check_csv_memory); a header is at most 10M columns.
constexpr long kMaxColumns = 10'000'000;
constexpr long kMaxClasses = 100'000;  // the output layer has one unit per class

// Lines left in `in` (an upper bound on the records: a quoted field may span lines), counted
// before any row is parsed so the memory check comes first; the stream is put back where it was.
long count_remaining_lines(std::istream& in) {
  const std::istream::pos_type start = in.tellg();
  std::vector<char> block(std::size_t{1} << 20);
  long lines = 1;
  while (in) {
    in.read(block.data(), std::streamsize(block.size()));
    const std::size_t got = std::size_t(in.gcount());
    if (got == 0) break;
    for (const char* p = block.data();
         (p = static_cast<const char*>(std::memchr(p, '\n', std::size_t(block.data() + got - p))));
         ++p)
      ++lines;
  }
  in.clear();
  in.seekg(start);
  return lines;
}

// A cell's text for a message, shortened so a garbage line cannot flood the terminal.
std::string quote(std::string_view s) {
  constexpr std::size_t kShown = 40;
  if (s.size() <= kShown) return "\"" + std::string(s) + "\"";
  return "\"" + std::string(s.substr(0, kShown)) + "...\"";
}

std::string cell_where(long line, const std::string& column) {
  return "line " + std::to_string(line) + ", column \"" + column + "\": ";
}

double parse_number(std::string_view field, long line, const std::string& column,
                    const std::string& file) {
  std::string_view digits = field;
  if (digits.size() > 1 && digits.front() == '+') digits.remove_prefix(1);  // from_chars: no '+'
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range)
    throw InputError(file, "", cell_where(line, column) + "number out of range: " + quote(field));
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty())
    throw InputError(file, "", cell_where(line, column) + "not a number: " + quote(field));
  if (!std::isfinite(value))
    throw InputError(file, "", cell_where(line, column) + "NaN or Inf is not allowed");
  return value;
}

// Class labels are integers 0..K-1; "2.0" (a float column written by pandas) is accepted.
// `classes` is data.classes (0: counted from the labels present).
int parse_label(std::string_view field, long line, const std::string& column,
                const std::string& file, long classes) {
  const double value = parse_number(field, line, column, file);
  if (value < 0 || value != std::floor(value))
    throw InputError(
        file, "",
        cell_where(line, column) + "class label must be an integer >= 0, got " + quote(field));
  if (classes > 0 && value >= double(classes))
    throw InputError(file, "",
                     cell_where(line, column) + "class label " + quote(field) +
                         " is not below data.classes = " + std::to_string(classes));
  if (value >= kMaxClasses)
    throw InputError(file, "",
                     cell_where(line, column) + "class label " + quote(field) +
                         " is too large (at most " + std::to_string(kMaxClasses - 1) + ")");
  return static_cast<int>(value);
}

std::string resolve_path(const DataConfig& d, const std::string& config_source) {
  std::filesystem::path path(d.path);
  if (path.is_relative()) path = std::filesystem::path(config_source).parent_path() / path;
  return path.lexically_normal().string();
}

// Classified before it is opened: a FIFO would block the open, a device never ends.
std::ifstream open_csv(const std::string& file, const std::string& config_source) {
  const PathInfo info = inspect_path(file);
  if (const std::string problem = regular_file_problem(info); !problem.empty())
    throw InputError(config_source, "/data/path", "cannot read " + file + ": " + problem);
  errno = 0;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const std::string reason = errno != 0 ? std::strerror(errno) : "cannot open";
    throw InputError(config_source, "/data/path", "cannot read " + file + ": " + reason);
  }
  return in;
}

}  // namespace

void check_csv_memory(long lines, std::size_t used_columns, const std::string& file,
                      std::size_t have) {
  const std::size_t need = 3 * 8 * std::size_t(lines) * (used_columns + 1);
  if (have && need > have / 10 * 8)
    throw InputError(file, "",
                     std::to_string(lines) + " lines of " + std::to_string(used_columns) +
                         " used columns need about " + gib(need) +
                         " of memory to load, but the machine has " + gib(have) +
                         "; use fewer rows or list fewer feature_columns");
}

namespace {

// Where each used column sits in the header.
struct ColumnPlan {
  std::vector<std::string> header;
  std::vector<long> features;
  std::vector<long> targets;  // regression
  long label = -1;            // classification
};

long find_column(const std::vector<std::string>& header, const std::string& name,
                 const std::string& file, const std::string& config_source,
                 const std::string& json_path) {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it != header.end()) return static_cast<long>(it - header.begin());
  std::string listed;
  constexpr std::size_t kListed = 30;
  for (std::size_t i = 0; i < header.size() && i < kListed; ++i)
    listed += (i ? ", \"" : "\"") + header[i] + "\"";
  if (header.size() > kListed)
    listed += ", ... (" + std::to_string(header.size() - kListed) + " more)";
  throw InputError(config_source, json_path,
                   "unknown column \"" + name + "\"; the header of " + file + " has " + listed);
}

ColumnPlan plan_columns(const DataConfig& d, Task task, std::vector<std::string> header,
                        const std::string& file, const std::string& config_source) {
  ColumnPlan plan;
  plan.header = std::move(header);
  const auto& names = plan.header;
  std::unordered_set<std::string_view> seen;  // a set: a hostile header may have 10M names
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty())
      throw InputError(file, "", "header: column " + std::to_string(i + 1) + " has no name");
    if (!seen.insert(names[i]).second)
      throw InputError(file, "", "header: column name \"" + names[i] + "\" appears twice");
  }
  // `used` marks label/target columns so a feature list cannot leak them into the inputs.
  std::vector<bool> used(names.size(), false);
  if (task == Task::classification) {
    plan.label = find_column(names, d.label_column, file, config_source, "/data/label_column");
    used[static_cast<std::size_t>(plan.label)] = true;
  } else {
    if (d.target_columns.empty())
      throw InputError(config_source, "/data/target_columns",
                       "a csv data set needs label_column (classification) or target_columns "
                       "(regression)");
    for (std::size_t i = 0; i < d.target_columns.size(); ++i) {
      const std::string json_path = "/data/target_columns/" + std::to_string(i);
      const long col = find_column(names, d.target_columns[i], file, config_source, json_path);
      if (used[static_cast<std::size_t>(col)])
        throw InputError(config_source, json_path,
                         "column \"" + d.target_columns[i] + "\" is listed twice");
      used[static_cast<std::size_t>(col)] = true;
      plan.targets.push_back(col);
    }
  }
  if (d.feature_columns.empty()) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (!used[i]) plan.features.push_back(static_cast<long>(i));
    if (plan.features.empty())
      throw InputError(file, "", "no feature columns: every column is a label or target");
  } else {
    for (std::size_t i = 0; i < d.feature_columns.size(); ++i) {
      const std::string json_path = "/data/feature_columns/" + std::to_string(i);
      const long col = find_column(names, d.feature_columns[i], file, config_source, json_path);
      if (used[static_cast<std::size_t>(col)])
        throw InputError(
            config_source, json_path,
            "column \"" + d.feature_columns[i] + "\" is already a label/target or listed twice");
      used[static_cast<std::size_t>(col)] = true;
      plan.features.push_back(col);
    }
  }
  return plan;
}

// The used columns' values, one row per data line, in file order.
struct Rows {
  long count = 0;
  std::vector<double> features;  // count * features, row-major
  std::vector<double> targets;   // count * targets, row-major
  std::vector<int> labels;
};

Rows read_rows(std::istream& in, const ColumnPlan& plan, std::size_t line_no, long lines,
               const std::string& file, long classes) {
  const long columns = static_cast<long>(plan.header.size());
  Rows rows;
  // One allocation each (lines bounds the rows): growing by doubling would peak at 1.5x.
  rows.features.reserve(std::size_t(lines) * plan.features.size());
  rows.targets.reserve(std::size_t(lines) * plan.targets.size());
  if (plan.label >= 0) rows.labels.reserve(std::size_t(lines));
  std::string record;
  std::size_t first = 0;
  while (read_csv_record(in, record, line_no, first, file)) {
    const long line = static_cast<long>(first);
    if (trim_blanks(record).empty()) continue;
    // Counted before splitting (quote-aware, as the split is): a hostile line stays cheap.
    const long fields = static_cast<long>(count_csv_fields(record));
    if (fields != columns)
      throw InputError(file, "",
                       "line " + std::to_string(line) + ": expected " + std::to_string(columns) +
                           " fields, got " + std::to_string(fields));
    const std::vector<std::string> cells = split_csv_line(record);
    GF_ASSERT(static_cast<long>(cells.size()) == columns);
    const auto cell = [&](long col) { return cells[static_cast<std::size_t>(col)]; };
    const auto name = [&](long col) { return plan.header[static_cast<std::size_t>(col)]; };
    for (long col : plan.features)
      rows.features.push_back(parse_number(cell(col), line, name(col), file));
    for (long col : plan.targets)
      rows.targets.push_back(parse_number(cell(col), line, name(col), file));
    if (plan.label >= 0)
      rows.labels.push_back(parse_label(cell(plan.label), line, name(plan.label), file, classes));
    ++rows.count;
  }
  if (in.bad())
    throw InputError(file, "", "read failed after line " + std::to_string(line_no));
  return rows;
}

// The number of classes: data.classes when given, else the labels present, which must then be
// 0..K-1 with K >= 2 (a gap would silently add an output unit no example ever trains).
long count_classes(const std::vector<int>& labels, long classes, const std::string& column,
                   const std::string& file) {
  if (classes > 0) return classes;
  const int top = *std::max_element(labels.begin(), labels.end());
  std::vector<bool> present(static_cast<std::size_t>(top) + 1, false);
  for (int label : labels) present[static_cast<std::size_t>(label)] = true;
  const long count = static_cast<long>(std::count(present.begin(), present.end(), true));
  // One class makes the cross-entropy identically 0: no gradient to study.
  if (count < 2)
    throw InputError(file, "",
                     "column \"" + column + "\" has only class " + std::to_string(top) +
                         "; classification needs at least 2 classes");
  if (count != long(top) + 1) {
    const auto gap = std::find(present.begin(), present.end(), false) - present.begin();
    throw InputError(file, "",
                     "column \"" + column + "\" has labels up to " + std::to_string(top) +
                         " but none equal to " + std::to_string(gap) +
                         "; classes are counted from the labels present, which must be 0.." +
                         std::to_string(count - 1) +
                         ", unless data.classes says how many classes there are");
  }
  return count;
}

// The examples at positions [begin, end) of `order`.
Examples gather(const Rows& rows, const ColumnPlan& plan, const std::vector<std::size_t>& order,
                std::size_t begin, std::size_t end) {
  const long n = static_cast<long>(end - begin);
  const std::size_t nf = plan.features.size(), nt = plan.targets.size();
  Examples ex;
  ex.x.resize(static_cast<long>(nf), n);  // (features, n)
  if (nt > 0) ex.y.resize(static_cast<long>(nt), n);
  for (long j = 0; j < n; ++j) {
    const std::size_t row = order[begin + static_cast<std::size_t>(j)];
    for (std::size_t f = 0; f < nf; ++f)
      ex.x(static_cast<long>(f), j) = rows.features[row * nf + f];
    for (std::size_t t = 0; t < nt; ++t) ex.y(static_cast<long>(t), j) = rows.targets[row * nt + t];
    if (plan.label >= 0) ex.labels.push_back(rows.labels[row]);
  }
  return ex;
}

// z-scores each feature with the training set's mean and (population) standard deviation and
// applies the same transform to the probe set, so the probe set never informs the scaling.
// A constant feature is only centred: dividing by a zero std would make NaNs.
void standardize_features(Examples& train, Examples& probe) {
  for (long f = 0; f < train.x.rows(); ++f) {
    const double mean = train.x.row(f).mean();
    const double var = (train.x.row(f).array() - mean).square().mean();
    const double inv_std = var > 0 ? 1.0 / std::sqrt(var) : 1.0;
    train.x.row(f) = (train.x.row(f).array() - mean) * inv_std;
    if (probe.size() > 0) probe.x.row(f) = (probe.x.row(f).array() - mean) * inv_std;
  }
}

}  // namespace

Dataset read_csv_dataset(std::istream& in, const std::string& file, const DataConfig& d,
                         std::uint64_t seed, const std::string& config_source) {
  const Task task = data_task(d);
  std::string header_line;
  std::size_t line_no = 0, first = 0;
  while (read_csv_record(in, header_line, line_no, first, file)) {
    if (first == 1 && header_line.starts_with("\xEF\xBB\xBF")) header_line.erase(0, 3);
    if (!trim_blanks(header_line).empty()) break;
  }
  if (trim_blanks(header_line).empty())
    throw InputError(file, "", "the file is empty; a header row naming the columns is required");
  if (count_csv_fields(header_line) > std::size_t(kMaxColumns))
    throw InputError(file, "", "line " + std::to_string(first) + ": too many columns");
  std::vector<std::string> header = split_csv_line(header_line);
  const ColumnPlan plan = plan_columns(d, task, std::move(header), file, config_source);

  const long lines = count_remaining_lines(in);
  check_csv_memory(lines, plan.features.size() + plan.targets.size(), file,
                   physical_memory_bytes());
  const Rows rows = read_rows(in, plan, line_no, lines, file, d.classes);
  if (rows.count == 0)
    throw InputError(file, "",
                     "no data rows after the header (line " + std::to_string(first) + ")");
  if (rows.count < d.probe_size + 1)
    throw InputError(file, "",
                     std::to_string(rows.count) + " data rows, but at least probe_size + 1 = " +
                         std::to_string(d.probe_size + 1) +
                         " are needed (probe_size rows are held out, the rest train)");

  // Probe rows come first in the shuffled order, so changing train_size keeps the probe set.
  std::vector<std::size_t> order(static_cast<std::size_t>(rows.count));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng = make_rng(seed, "data");
  shuffle(order, rng);
  const std::size_t probe_end = static_cast<std::size_t>(d.probe_size);
  const std::size_t train_end =
      probe_end + std::min(static_cast<std::size_t>(d.train_size), order.size() - probe_end);

  Dataset data;
  data.task = task;
  data.inputs = static_cast<long>(plan.features.size());
  data.train = gather(rows, plan, order, probe_end, train_end);
  data.probe = gather(rows, plan, order, 0, probe_end);
  data.outputs = task == Task::classification
                     ? count_classes(rows.labels, d.classes, d.label_column, file)
                     : static_cast<long>(plan.targets.size());
  if (d.standardize) standardize_features(data.train, data.probe);
  return data;
}

Dataset load_csv_dataset(const DataConfig& d, std::uint64_t seed,
                         const std::string& config_source) {
  if (d.path.empty())
    throw InputError(config_source, "/data/path", "data.kind \"csv\" needs a path to the file");
  const std::string file = resolve_path(d, config_source);
  std::ifstream in = open_csv(file, config_source);
  return read_csv_dataset(in, file, d, seed, config_source);
}

}  // namespace gradflow
