// The config schema: every key with its default and constraint (docs/config.md is the
// user-facing copy), the canonical to_json, and --set overrides. The generic JSON walking and
// message wording live in config_reader.cpp.
#include "config/config.hpp"

#include <algorithm>
#include <array>
#include <filesystem>

#include "config/config_reader.hpp"
#include "config/model_config.hpp"
#include "base/errors.hpp"

namespace gradflow {
namespace {

constexpr std::array<std::string_view, 2> kPrecisionNames = {"float64", "float32"};
constexpr std::array<std::string_view, 8> kDataKindNames = {
    "gaussian_mixture", "spirals", "teacher_student", "gaussian_targets", "csv",
    "fashion_mnist", "idx", "npy"};
constexpr std::array<std::string_view, 2> kLossNames = {"cross_entropy", "mse"};
constexpr std::array<std::string_view, 3> kOptimizerNames = {"sgd", "momentum", "adam"};
constexpr std::array<std::string_view, 3> kScheduleNames = {"constant", "step", "cosine"};
// Adding an enumerator without its name breaks the build here, not a run.
static_assert(std::size_t(Precision::float32) + 1 == kPrecisionNames.size());
static_assert(std::size_t(DataKind::npy) + 1 == kDataKindNames.size());
static_assert(std::size_t(Loss::mse) + 1 == kLossNames.size());
static_assert(std::size_t(Optimizer::adam) + 1 == kOptimizerNames.size());
static_assert(std::size_t(Schedule::cosine) + 1 == kScheduleNames.size());

constexpr std::int64_t kMaxCount = 1'000'000'000;  // steps, sample counts, intervals
constexpr std::size_t kMaxNameBytes = 128;
constexpr long kFashionMnistTrain = 60000, kFashionMnistTest = 10000;

// Sections that are absent are parsed as {} so derived defaults (loss from the task, spirals'
// dim) follow one code path.
const Json& empty_object() {
  static const Json empty = Json::object();
  return empty;
}

JsonAt section(ObjectReader& r, std::string_view key) {
  if (auto value = r.take(key)) return *value;
  return {&empty_object(), r.at().source, pointer_append(r.at().path, key)};
}

Activation read_activation(const JsonAt& at) {
  Activation a{};
  const bool known = parse_activation(kActivationNames[read_choice(at, kActivationNames)], a);
  GF_ASSERT(known);
  return a;
}

std::string in_quotes(std::string_view text) { return describe_value(Json(std::string(text))); }

// The name becomes a folder under results/, so it must not be able to climb out of it.
std::string name_problem(const std::string& name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxNameBytes) return "is longer than 128 bytes";
  if (name == "." || name == "..") return "is \".\" or \"..\"";
  for (unsigned char c : name) {
    if (c == '/' || c == '\\') return "contains '/' or '\\'";
    if (c < 0x20 || c == 0x7f) return "contains a control character";
  }
  return {};
}

void check_unique_columns(const JsonAt& at, const std::vector<std::string>& columns) {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (std::find(columns.begin(), columns.begin() + i, columns[i]) != columns.begin() + i) {
      fail_at(at, "column " + in_quotes(columns[i]) + " is listed twice");
    }
  }
}

// csv: exactly one of label_column / target_columns decides the task; "" and [] mean unset,
// which is also how to_json writes the one not used.
void check_csv(const JsonAt& data, const DataConfig& d) {
  if (d.path.empty()) {
    fail_at(data,
            "data.kind \"csv\" needs \"path\": the CSV file, relative to the config's folder");
  }
  const bool has_label = !d.label_column.empty(), has_targets = !d.target_columns.empty();
  if (has_label == has_targets) {
    fail_at(data, std::string("data.kind \"csv\" needs exactly one of \"label_column\" ") +
                      "(classification) or \"target_columns\" (regression), got " +
                      (has_label ? "both" : "neither"));
  }
}

// fashion_mnist, idx, npy: which paths each needs (paths are relative to the config's folder).
void check_file_data(const JsonAt& data, const JsonAt* probe_size, const DataConfig& d) {
  const std::string kind = in_quotes(data_kind_name(d.kind));
  if (d.kind == DataKind::fashion_mnist) {
    if (probe_size && d.probe_size > kFashionMnistTest)
      fail_expected(*probe_size, "at most 10000 (the probe set is taken from the 10000 test images)");
    if (!d.labels_path.empty() || !d.targets_path.empty())
      fail_at(data, "data.kind \"fashion_mnist\" reads its labels from the folder data.path; "
                    "leave labels_path and targets_path out");
    return;
  }
  if (d.path.empty())
    fail_at(data, "data.kind " + kind + " needs \"path\": the " +
                      (d.kind == DataKind::idx ? "IDX images file" : "X.npy file") +
                      ", relative to the config's folder");
  if (d.kind == DataKind::idx && d.labels_path.empty())
    fail_at(data, "data.kind \"idx\" needs \"labels_path\": the IDX labels file");
  if (d.kind == DataKind::idx && !d.targets_path.empty())
    fail_at(data, "data.kind \"idx\" takes labels_path only (targets_path is for npy)");
  if (d.kind == DataKind::npy && d.labels_path.empty() == d.targets_path.empty())
    fail_at(data, std::string("data.kind \"npy\" needs exactly one of \"labels_path\" ") +
                      "(N integer labels) or \"targets_path\" (N x outputs floats), got " +
                      (d.labels_path.empty() ? "neither" : "both"));
}

DataConfig parse_data(ObjectReader r) {
  DataConfig d;
  d.kind = r.choice("kind", d.kind, kDataKindNames);
  if (auto seed = r.take("seed"); seed && !seed->value->is_null()) d.seed = read_unsigned(*seed);
  // File data trains on all of its rows unless told otherwise (fashion_mnist: its 60000).
  const long all_rows = d.kind == DataKind::fashion_mnist ? kFashionMnistTrain
                        : d.kind == DataKind::idx || d.kind == DataKind::npy ? kMaxCount
                                                                               : d.train_size;
  d.train_size = r.integer("train_size", all_rows, 1, kMaxCount);
  const std::optional<JsonAt> probe_at = r.take("probe_size");
  if (probe_at) d.probe_size = read_integer(*probe_at, 1, kMaxCount);
  if (auto dim = r.take("dim")) {
    d.dim = read_integer(*dim, 1, kMaxWidth);
    if (d.kind == DataKind::spirals && d.dim != 2) {
      fail_expected(*dim, "2 (spirals are 2-D; leave dim out)");
    }
  } else if (d.kind == DataKind::spirals) {
    d.dim = 2;
  }
  // Spirals default to two arms; the mixture's default of 4 classes suits Gaussian blobs.
  // csv: 0 (the default) counts the classes from the labels present; a number >= 2 allows
  // classes with no row in the file.
  const bool csv = d.kind == DataKind::csv;
  d.classes = r.integer("classes", csv ? 0 : d.kind == DataKind::spirals ? 2 : d.classes,
                        csv ? 0 : 2, kMaxWidth);
  if (csv && d.classes == 1) fail_expected(*r.take("classes"), "0 (count the labels) or >= 2");
  d.separation = r.number("separation", d.separation, at_least(0));
  d.noise = r.number("noise", d.noise, at_least(0));
  d.turns = r.number("turns", d.turns, above(0));
  d.outputs = r.integer("outputs", d.outputs, 1, kMaxWidth);
  d.teacher_depth = r.integer("teacher_depth", d.teacher_depth, 1, kMaxDepth);
  d.teacher_width = r.integer("teacher_width", d.teacher_width, 1, kMaxWidth);
  if (auto a = r.take("teacher_activation")) d.teacher_activation = read_activation(*a);
  if (auto path = r.take("path")) d.path = read_path(*path);
  d.label_column = r.string("label_column", d.label_column);
  if (auto targets = r.take("target_columns")) {
    d.target_columns = read_string_list(*targets);
    check_unique_columns(*targets, d.target_columns);
  }
  if (auto features = r.take("feature_columns")) {
    d.feature_columns = read_string_list(*features);
    check_unique_columns(*features, d.feature_columns);
    for (const std::string& f : d.feature_columns) {
      const bool is_target =
          std::find(d.target_columns.begin(), d.target_columns.end(), f) != d.target_columns.end();
      if (f == d.label_column || is_target) {
        fail_at(*features, "column " + in_quotes(f) + " is both a feature and a label/target");
      }
    }
  }
  d.standardize = r.boolean("standardize", d.standardize);
  d.labels_path = r.string("labels_path", d.labels_path);
  d.targets_path = r.string("targets_path", d.targets_path);
  if (d.kind == DataKind::csv) check_csv(r.at(), d);
  if (is_file_data(d.kind) && d.kind != DataKind::csv)
    check_file_data(r.at(), probe_at ? &*probe_at : nullptr, d);
  r.finish();
  return d;
}

TrainConfig parse_train(ObjectReader r, const DataConfig& data) {
  TrainConfig t;
  const Task task = data_task(data);
  t.loss = task == Task::classification ? Loss::cross_entropy : Loss::mse;
  if (auto loss = r.take("loss")) {
    t.loss = static_cast<Loss>(read_choice(*loss, kLossNames));
    if (t.loss == Loss::cross_entropy && task == Task::regression) {
      fail_at(*loss, "cross_entropy needs class labels, but data.kind \"" +
                         std::string(data_kind_name(data.kind)) +
                         "\" gives real-valued targets (a regression task); use \"mse\"");
    }
  }
  t.optimizer = r.choice("optimizer", t.optimizer, kOptimizerNames);
  t.lr = r.number("lr", t.lr, above(0));
  t.momentum = r.number("momentum", t.momentum, kUnitHalfOpen);
  t.nesterov = r.boolean("nesterov", t.nesterov);
  t.beta1 = r.number("beta1", t.beta1, kUnitHalfOpen);
  t.beta2 = r.number("beta2", t.beta2, kUnitHalfOpen);
  t.eps = r.number("eps", t.eps, above(0));
  t.steps = r.integer("steps", t.steps, 0, kMaxCount);
  // The default shrinks to a small training set rather than failing on a key not written.
  t.batch_size = std::min(t.batch_size, data.train_size);
  if (auto batch = r.take("batch_size")) {
    t.batch_size = read_integer(*batch, 1, kMaxCount);
    if (t.batch_size > data.train_size) {
      fail_expected(*batch,
                    "an integer <= data.train_size (" + std::to_string(data.train_size) + ")");
    }
  }
  t.clip_norm = r.number("clip_norm", t.clip_norm, at_least(0));
  t.schedule = r.choice("schedule", t.schedule, kScheduleNames);
  t.decay_every = r.integer("decay_every", t.decay_every, 1, kMaxCount);
  t.decay_factor = r.number("decay_factor", t.decay_factor, {0.0, 1.0, true, false});
  t.lr_final = r.number("lr_final", t.lr_final, at_least(0));
  r.finish();
  return t;
}

LogConfig parse_log(ObjectReader r) {
  LogConfig l;
  l.every = r.integer("every", l.every, 1, kMaxCount);
  l.probe_every = r.integer("probe_every", l.probe_every, 0, kMaxCount);
  l.divergence_window = r.integer("divergence_window", l.divergence_window, 0, 100000);
  l.dead_window = r.integer("dead_window", l.dead_window, 1, kMaxCount);
  l.save_params = r.boolean("save_params", l.save_params);
  r.finish();
  return l;
}

VerdictConfig parse_verdict(ObjectReader r) {
  VerdictConfig v;
  v.vanishing_decades = r.number("vanishing_decades", v.vanishing_decades, above(0));
  v.exploding_decades = r.number("exploding_decades", v.exploding_decades, above(0));
  v.exploding_growth = r.number("exploding_growth", v.exploding_growth, above(1));
  v.dying_fraction = r.number("dying_fraction", v.dying_fraction, {0.0, 1.0, false, true});
  r.finish();
  return v;
}

// `source` is the file (it names the config and anchors relative paths); `where` is what
// messages call it, which says so when --set changed the document.
Config parse_config_from(const Json& doc, const std::string& source, const std::string& where) {
  ObjectReader r({&doc, where, ""});
  Config c;
  c.source = source;
  const std::filesystem::path file(source);
  c.base_dir = file.has_parent_path() ? file.parent_path().string() : ".";
  if (auto description = r.take("description")) read_string(*description);  // for humans
  // A run folder's config.json carries the build that ran it (writers.hpp); it describes the
  // run, not the experiment, so reading that file back as a config ignores it.
  if (auto provenance = r.take("provenance"); provenance && !provenance->value->is_object()) {
    fail_expected(*provenance, "an object");
  }
  if (auto name = r.take("name")) {
    c.name = read_string(*name);
    if (const std::string problem = name_problem(c.name); !problem.empty()) {
      fail_at(*name, "expected a name usable as a folder name, got " +
                         describe_value(*name->value) + " (it " + problem + ")");
    }
  } else {
    c.name = file.stem().string();
    if (const std::string problem = name_problem(c.name); !problem.empty()) {
      throw InputError(where, "/name",
                       "no name given, and the file's stem " + in_quotes(c.name) +
                           " cannot be used as one: it " + problem);
    }
  }
  if (auto seed = r.take("seed")) c.seed = read_unsigned(*seed);
  c.precision = r.choice("precision", c.precision, kPrecisionNames);
  c.data = parse_data(ObjectReader(section(r, "data")));
  c.model = parse_model(ObjectReader(section(r, "model")));
  c.train = parse_train(ObjectReader(section(r, "train")), c.data);
  c.log = parse_log(ObjectReader(section(r, "log")));
  c.verdict = parse_verdict(ObjectReader(section(r, "verdict")));
  // Expanded by the sweep module; here it only has to be an object (null: no sweep).
  if (auto sweep = r.take("sweep"); sweep && !sweep->value->is_null()) {
    if (!sweep->value->is_object()) fail_expected(*sweep, "an object");
    c.sweep = *sweep->value;
  }
  r.finish();
  return c;
}

std::string str(std::string_view s) { return std::string(s); }

}  // namespace

Config parse_config(const Json& doc, const std::string& source) {
  return parse_config_from(doc, source, source);
}

Json read_json_file(const std::string& path) { return parse_json_text(read_text_file(path), path); }

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  Json doc = read_json_file(path);
  for (const std::string& assignment : overrides) apply_override(doc, assignment);
  return parse_config_from(doc, path, overrides.empty() ? path : path + " (after --set)");
}

std::vector<std::string> split_dotted(std::string_view key) {
  // A sweep's own keys are dotted config paths ("model.depth"), so sweep.<key> is one entry
  // of the sweep section: --set sweep.model.depth=[2,4] sets the grid axis "model.depth".
  constexpr std::string_view kSweep = "sweep.";
  if (key.size() > kSweep.size() && key.substr(0, kSweep.size()) == kSweep)
    return {"sweep", std::string(key.substr(kSweep.size()))};
  std::vector<std::string> segments;
  for (std::size_t start = 0;;) {
    const std::size_t dot = key.find('.', start);
    segments.emplace_back(key.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return segments;
    start = dot + 1;
  }
}

std::string dotted_key_problem(const Json& doc, std::string_view key) {
  const std::vector<std::string> segments = split_dotted(key);
  if (segments.size() > static_cast<std::size_t>(kMaxJsonDepth)) return "the key is too deep";
  for (const std::string& s : segments) {
    if (s.empty()) return "empty segment in the key " + in_quotes(key);
  }
  const Json* node = &doc;
  std::string walked;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    walked += (walked.empty() ? "" : ".") + segments[i];
    const auto it = node->find(segments[i]);
    if (it == node->end() || it->is_null()) return {};  // created empty when set
    if (!it->is_object()) {
      return walked + " is " + describe_value(*it) + ", not an object, so it has no key " +
             in_quotes(segments[i + 1]);
    }
    node = &*it;
  }
  return {};
}

void set_dotted(Json& doc, std::string_view key, const Json& value) {
  const std::vector<std::string> segments = split_dotted(key);
  Json* node = &doc;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    Json& next = (*node)[segments[i]];
    if (next.is_null()) next = Json::object();
    GF_ASSERT(next.is_object());
    node = &next;
  }
  (*node)[segments.back()] = value;
}

void apply_override(Json& doc, const std::string& assignment) {
  const auto fail = [&](const std::string& message) {
    throw InputError("--set", "", in_quotes(assignment) + ": " + message);
  };
  const std::size_t equals = assignment.find('=');
  if (equals == std::string::npos) fail("expected key=value, such as model.depth=50");
  const std::string key = assignment.substr(0, equals);
  const std::string text = assignment.substr(equals + 1);
  if (key.empty()) fail("the key before '=' is empty; expected a dotted key such as model.depth");

  // JSON when it is JSON (50, [64,32], true, "x"), else the text itself (tanh, data/x.csv).
  Json value;
  if (Json::accept(text)) {
    value = parse_json_text(text, "--set");
  } else {
    value = text;
    try {
      (void)value.dump();  // configs are UTF-8; a shell can pass any bytes
    } catch (const Json::type_error&) {
      fail("the value is not valid UTF-8");
    }
  }

  if (doc.is_null()) doc = Json::object();
  if (!doc.is_object()) fail("the document is not a JSON object");
  if (const std::string problem = dotted_key_problem(doc, key); !problem.empty()) fail(problem);
  set_dotted(doc, key, value);
}

Json to_json(const Config& c) {
  const DataConfig& d = c.data;
  const TrainConfig& t = c.train;
  Json data = {
      {"kind", str(data_kind_name(d.kind))},
      {"seed", d.seed ? Json(*d.seed) : Json(nullptr)},
      {"train_size", d.train_size},
      {"probe_size", d.probe_size},
      {"dim", d.dim},
      {"classes", d.classes},
      {"separation", d.separation},
      {"noise", d.noise},
      {"turns", d.turns},
      {"outputs", d.outputs},
      {"teacher_depth", d.teacher_depth},
      {"teacher_width", d.teacher_width},
      {"teacher_activation", str(activation_name(d.teacher_activation))},
      {"path", d.path},
      {"label_column", d.label_column},
      {"target_columns", d.target_columns},
      {"feature_columns", d.feature_columns},
      {"standardize", d.standardize},
  };
  // Emitted only when set, like log.probe_every: run ids hash this document.
  if (!d.labels_path.empty()) data["labels_path"] = d.labels_path;
  if (!d.targets_path.empty()) data["targets_path"] = d.targets_path;
  Json train = {
      {"loss", str(loss_name(t.loss))},
      {"optimizer", str(optimizer_name(t.optimizer))},
      {"lr", t.lr},
      {"momentum", t.momentum},
      {"nesterov", t.nesterov},
      {"beta1", t.beta1},
      {"beta2", t.beta2},
      {"eps", t.eps},
      {"steps", t.steps},
      {"batch_size", t.batch_size},
      {"clip_norm", t.clip_norm},
      {"schedule", str(schedule_name(t.schedule))},
      {"decay_every", t.decay_every},
      {"decay_factor", t.decay_factor},
      {"lr_final", t.lr_final},
  };
  Json log = {{"every", c.log.every}, {"save_params", c.log.save_params}};
  // Emitted only when set: the run id hashes this document, and adding the key with its
  // default would rename every existing run (and break resume and the baselines).
  if (c.log.probe_every != 0) log["probe_every"] = c.log.probe_every;
  if (c.log.divergence_window != LogConfig{}.divergence_window)
    log["divergence_window"] = c.log.divergence_window;
  if (c.log.dead_window != LogConfig{}.dead_window) log["dead_window"] = c.log.dead_window;
  Json verdict = verdict_to_json(c.verdict);
  Json j = {
      {"name", c.name},
      {"seed", c.seed},
      {"precision", str(precision_name(c.precision))},
      {"data", std::move(data)},
      {"model", model_to_json(c.model)},
      {"train", std::move(train)},
      {"log", std::move(log)},
      {"verdict", std::move(verdict)},
  };
  if (!c.sweep.is_null()) j["sweep"] = c.sweep;
  return j;
}

Json verdict_to_json(const VerdictConfig& v) {
  return {{"vanishing_decades", v.vanishing_decades},
          {"exploding_decades", v.exploding_decades},
          {"exploding_growth", v.exploding_growth},
          {"dying_fraction", v.dying_fraction}};
}

VerdictConfig verdict_from_json(const Json& doc, const std::string& source) {
  return parse_verdict(ObjectReader({&doc, source, "/verdict"}));
}

std::string_view precision_name(Precision p) { return kPrecisionNames[std::size_t(p)]; }
std::string_view data_kind_name(DataKind k) { return kDataKindNames[std::size_t(k)]; }
std::string_view loss_name(Loss l) { return kLossNames[std::size_t(l)]; }
std::string_view optimizer_name(Optimizer o) { return kOptimizerNames[std::size_t(o)]; }
std::string_view schedule_name(Schedule s) { return kScheduleNames[std::size_t(s)]; }

Task data_task(const DataConfig& d) {
  switch (d.kind) {
    case DataKind::gaussian_mixture:
    case DataKind::spirals:
      return Task::classification;
    case DataKind::teacher_student:
    case DataKind::gaussian_targets:
      return Task::regression;
    case DataKind::csv:
      return d.label_column.empty() ? Task::regression : Task::classification;
    case DataKind::fashion_mnist:
    case DataKind::idx:
      return Task::classification;
    case DataKind::npy:
      return d.targets_path.empty() ? Task::classification : Task::regression;
  }
  GF_ASSERT(false && "unknown DataKind");
  return Task::classification;
}

}  // namespace gradflow
