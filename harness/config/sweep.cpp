// Sweep expansion; see sweep.hpp for the contract and docs/sweeps-and-slurm.md for the
// format. Three phases: read the section's shape into axes, count the runs (refusing too many
// before any work), then build and validate each run, explaining a failure by the sweep entry
// behind it.
#include "config/sweep.hpp"

#include <cstdio>
#include <limits>
#include <optional>
#include <unordered_map>

#include "config/config_reader.hpp"
#include "config/run_label.hpp"
#include "base/errors.hpp"

namespace gradflow {
namespace {

std::string in_quotes(std::string_view text) { return describe_value(Json(std::string(text))); }

// The JSON pointer a dotted key addresses: "model.depth" -> "/model/depth".
std::string dotted_pointer(std::string_view key) {
  std::string pointer;
  for (const std::string& s : split_dotted(key)) pointer = pointer_append(pointer, s);
  return pointer;
}

// One swept key of a grid axis or a zip group: its values and where they are written.
struct AxisKey {
  std::string key;               // "model.depth"
  const Json* values = nullptr;  // non-empty list
  std::string path;              // "/sweep/model.depth" or "/sweep/zip/0/model.depth"
};

// One dimension of the grid. A grid key and a zip group list their values; the seed axis is
// computed (its count may be huge, so it is never materialised before the run count is checked).
struct Axis {
  std::vector<AxisKey> keys;  // none for the seed axis
  bool is_seeds = false;
  std::uint64_t first_seed = 0;             // seeds: n
  std::vector<std::uint64_t> listed_seeds;  // seeds: [..]
  std::size_t size = 0;
  std::string path;  // "/sweep/<key>", "/sweep/zip/<g>" or "/sweep/seeds"
};

std::uint64_t seed_at(const Axis& axis, std::size_t i) {
  return axis.listed_seeds.empty() ? axis.first_seed + i : axis.listed_seeds[i];
}

// The settings one point of an axis applies, as (key, value) pairs.
std::string point_path(const Axis& axis, std::size_t i) {
  if (axis.is_seeds) return axis.listed_seeds.empty() ? axis.path : pointer_append(axis.path, i);
  return pointer_append(axis.keys.front().path, i);
}

std::vector<SweptValue> point_values(const Axis& axis, std::size_t i) {
  if (axis.is_seeds) return {{"seed", Json(seed_at(axis, i)), point_path(axis, i)}};
  std::vector<SweptValue> values;
  for (const AxisKey& k : axis.keys)
    values.push_back({k.key, (*k.values)[i], pointer_append(k.path, i)});
  return values;
}

class AxisReader {
 public:
  explicit AxisReader(const Json& base_doc) : base_(base_doc) {}

  // Checks a dotted key and records it; `at` is its list (or the key's place) in the sweep.
  void add_key(const std::string& key, const JsonAt& at) {
    if (key == "name" || key == "sweep" || key.starts_with("sweep.")) {
      fail_at(at, in_quotes(key) + " cannot be swept: runs share the sweep's name, and a sweep " +
                      "cannot contain another");
    }
    if (const std::string problem = dotted_key_problem(base_, key); !problem.empty()) {
      fail_at(at, problem);
    }
    for (const auto& [other, other_path] : seen_) {
      const bool same = other == key;
      // "model" and "model.depth" would overwrite each other in an order-dependent way.
      if (same || key.starts_with(other + ".") || other.starts_with(key + ".")) {
        fail_at(at, in_quotes(key) + (same ? " is swept twice" : " overlaps " + in_quotes(other)) +
                        " (also at " + other_path + "); a key may appear once in a sweep, " +
                        "in the grid or in one zip group");
      }
    }
    seen_.emplace_back(key, at.path);
  }

  const std::vector<std::pair<std::string, std::string>>& seen() const { return seen_; }

 private:
  const Json& base_;
  std::vector<std::pair<std::string, std::string>> seen_;  // key, path in the sweep
};

const JsonAt& value_list(const JsonAt& at) {
  if (!at.value->is_array() || at.value->empty()) {
    fail_expected(at, "a non-empty list of values");
  }
  return at;
}

Axis read_zip_group(const JsonAt& group, std::size_t g, AxisReader& keys) {
  if (!group.value->is_object()) {
    fail_expected(group, "an object of dotted keys -> lists of equal length");
  }
  Axis axis;
  axis.path = group.path;
  for (const auto& [key, list] : group.value->items()) {
    const JsonAt at{&list, group.source, pointer_append(group.path, key)};
    if (key == "$comment") {
      read_string(at);
      continue;
    }
    keys.add_key(key, value_list(at));
    if (!axis.keys.empty() && list.size() != axis.size) {
      fail_at(group, "zip group " + std::to_string(g) + ": lists of unequal length: " +
                         axis.keys.front().key + " has " + std::to_string(axis.size) + " values, " +
                         key + " has " + std::to_string(list.size()) +
                         "; a group's lists are zipped element by element");
    }
    axis.size = list.size();
    axis.keys.push_back({key, &list, at.path});
  }
  if (axis.keys.empty()) fail_expected(group, "an object of dotted keys -> lists of equal length");
  return axis;
}

Axis read_seeds(const JsonAt& at, std::uint64_t base_seed) {
  Axis axis;
  axis.is_seeds = true;
  axis.path = at.path;
  if (at.value->is_array()) {
    for (const JsonAt& item : read_list(at, 1)) axis.listed_seeds.push_back(read_unsigned(item));
    axis.size = axis.listed_seeds.size();
    return axis;
  }
  if (!at.value->is_number()) {
    fail_expected(at,
                  "an integer >= 1 (run each point with seeds seed, seed+1, ...) or a "
                  "non-empty list of integer seeds");
  }
  const std::int64_t n = read_integer(at, 1);
  if (static_cast<std::uint64_t>(n - 1) > std::numeric_limits<std::uint64_t>::max() - base_seed) {
    fail_at(at, std::to_string(n) + " seeds from seed " + std::to_string(base_seed) +
                    " run past the largest seed, 2^64-1");
  }
  axis.first_seed = base_seed;
  axis.size = static_cast<std::size_t>(n);
  return axis;
}

// Grid keys in the order written, then zip groups, then seeds (see docs/sweeps-and-slurm.md).
std::vector<Axis> read_axes(const JsonAt& sweep, const Json& base_doc, std::uint64_t base_seed) {
  AxisReader keys(base_doc);
  std::vector<Axis> grid, zipped;
  std::optional<Axis> seeds;
  for (const auto& [key, value] : sweep.value->items()) {
    const JsonAt at{&value, sweep.source, pointer_append(sweep.path, key)};
    if (key == "$comment") {
      read_string(at);
    } else if (key == "seeds") {
      seeds = read_seeds(at, base_seed);
    } else if (key == "zip") {
      for (const JsonAt& group : read_list(at, 1)) {
        zipped.push_back(read_zip_group(group, zipped.size(), keys));
      }
    } else {
      keys.add_key(key, value_list(at));
      Axis axis;
      axis.keys.push_back({key, &value, at.path});
      axis.size = value.size();
      axis.path = at.path;
      grid.push_back(std::move(axis));
    }
  }
  if (seeds) {
    for (const auto& [key, path] : keys.seen()) {
      if (key == "seed") {
        throw InputError(sweep.source, seeds->path,
                         "\"seeds\" repeats every run over seeds, so \"seed\" cannot also be "
                         "swept (at " +
                             path + "); give one or the other");
      }
    }
  }
  for (Axis& a : zipped) grid.push_back(std::move(a));
  if (seeds) grid.push_back(std::move(*seeds));
  return grid;
}

// The product of the axis sizes, refused over `max_runs` without overflowing on the way.
std::size_t count_runs(const std::vector<Axis>& axes, const std::string& source,
                       std::size_t max_runs) {
  std::uint64_t count = 1;
  bool overflow = false;
  std::string sizes;
  for (const Axis& a : axes) {
    if (a.size != 0 && count > std::numeric_limits<std::uint64_t>::max() / a.size) overflow = true;
    count *= a.size;
    sizes += (sizes.empty() ? "" : " x ") + std::to_string(a.size);
  }
  if (overflow || count > max_runs) {
    const std::string n = overflow ? "more than 2^64" : std::to_string(count);
    throw InputError(source, "/sweep",
                     "expands to " + n + " runs (" + sizes + "), more than the limit of " +
                         std::to_string(max_runs) +
                         "; shorten the lists or split the sweep into several configs");
  }
  return static_cast<std::size_t>(count);
}

std::string error_text(const InputError& e) {
  return e.path().empty() ? e.message() : e.path() + ": " + e.message();
}

// Whether `e` is about `key`: at or below its place, or its parent rejecting it as unknown.
bool error_concerns(const InputError& e, const std::string& key) {
  const std::string pointer = dotted_pointer(key);
  if (e.path() == pointer || e.path().starts_with(pointer + "/")) return true;
  const std::string parent = pointer.substr(0, pointer.rfind('/'));
  return e.path() == parent &&
         e.message().starts_with("unknown key " + in_quotes(key.substr(key.rfind('.') + 1)));
}

// Each swept key's labels, one per place in its list (in swept_keys' order; seeds have none).
std::vector<std::vector<std::string>> axis_labels(const std::vector<Axis>& axes) {
  std::vector<std::vector<std::string>> labels;
  for (const Axis& axis : axes) {
    if (axis.is_seeds) labels.emplace_back();
    for (const AxisKey& k : axis.keys)
      labels.push_back(distinct_labels(std::vector<Json>(k.values->begin(), k.values->end())));
  }
  return labels;
}

struct Expansion {
  const Json& base_doc;  // without `sweep`
  const std::string& source;
  const std::vector<Axis>& axes;
};

// A run failed validation with `run_error`. Blame the one sweep entry that fails the same way
// on its own (applied to the base config), naming it; otherwise the failure comes from a
// combination of values, and the run is named by its label.
InputError explain_failure(const Expansion& x, const std::vector<std::size_t>& point,
                           std::size_t index, const std::string& label,
                           const InputError& run_error) {
  for (std::size_t a = 0; a < x.axes.size(); ++a) {
    const Axis& axis = x.axes[a];
    const std::vector<SweptValue> values = point_values(axis, point[a]);
    Json alone = x.base_doc;
    for (const SweptValue& v : values) set_dotted(alone, v.key, v.value);
    try {
      (void)parse_config(alone, x.source);
    } catch (const InputError& e) {
      if (std::string(e.what()) != run_error.what()) continue;
      std::string path = point_path(axis, point[a]), settings;
      for (std::size_t k = 0; k < values.size(); ++k) {
        settings += (k ? ", " : "") + values[k].key + " = " + describe_value(values[k].value);
        if (!axis.is_seeds && error_concerns(e, values[k].key)) {
          path = pointer_append(axis.keys[k].path, point[a]);
        }
      }
      return InputError(x.source, path, settings + ": " + error_text(e));
    }
  }
  return InputError(
      x.source, "/sweep",
      "run " + std::to_string(index) + " (" + label +
          ") is invalid, though each of its values is valid on its own: " + error_text(run_error));
}

}  // namespace

InputError locate_in_sweep(const RunSpec& run, const InputError& e) {
  if (e.where() != run.config.source) return e;
  for (const SweptValue& v : run.swept) {
    if (v.key == "seed" || !error_concerns(e, v.key)) continue;
    return InputError(e.where(), v.path,
                      v.key + " = " + describe_value(v.value) + ": " + error_text(e));
  }
  return e;
}

namespace {

std::uint64_t fnv1a_64(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;  // FNV offset basis
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;  // FNV prime
  }
  return h;
}

}  // namespace

std::string run_id(const Config& config) {
  Json doc = to_json(config);
  doc.erase("name");
  doc.erase("sweep");
  doc.erase("verdict");  // thresholds only label results; changing them reruns nothing
  char text[16];
  // The top 48 bits: 12 hex digits keep collisions negligible for sweeps of 10^5 runs.
  std::snprintf(text, sizeof text, "%012llx",
                static_cast<unsigned long long>(fnv1a_64(doc.dump()) >> 16));
  return text;
}

SweepPlan expand_sweep(const Json& doc, const std::string& source, std::size_t max_runs) {
  // The base must be valid on its own: it fixes the name, the seed and every key not swept.
  const Config base = parse_config(doc, source);
  SweepPlan plan;
  plan.name = base.name;
  if (base.sweep.is_null()) {
    RunSpec run;
    run.config = base;
    run.id = run_id(base);
    plan.runs.push_back(std::move(run));
    return plan;
  }
  plan.is_sweep = true;
  Json base_doc = doc;
  base_doc.erase("sweep");
  const std::vector<Axis> axes = read_axes({&base.sweep, source, "/sweep"}, base_doc, base.seed);
  const std::size_t count = count_runs(axes, source, max_runs);

  for (const Axis& axis : axes) {
    if (axis.is_seeds) plan.swept_keys.push_back("seed");
    for (const AxisKey& k : axis.keys) plan.swept_keys.push_back(k.key);
  }
  const std::vector<std::string> names = label_names(plan.swept_keys);
  const std::vector<std::vector<std::string>> labels = axis_labels(axes);
  const Expansion x{base_doc, source, axes};
  std::unordered_map<std::string, std::size_t> index_of_id;
  plan.runs.reserve(count);
  std::vector<std::size_t> point(axes.size());
  for (std::size_t index = 0; index < count; ++index) {
    // Row-major: the last axis (seeds, when given) varies fastest.
    for (std::size_t a = axes.size(), rest = index; a-- > 0;) {
      point[a] = rest % axes[a].size;
      rest /= axes[a].size;
    }
    RunSpec run;
    run.index = index;
    Json run_doc = base_doc;
    for (std::size_t a = 0; a < axes.size(); ++a) {
      for (SweptValue& v : point_values(axes[a], point[a])) {
        set_dotted(run_doc, v.key, v.value);
        const std::vector<std::string>& key_labels = labels[run.swept.size()];
        v.label = key_labels.empty() ? label_value(v.value) : key_labels[point[a]];
        run.swept.push_back(std::move(v));
      }
    }
    for (std::size_t k = 0; k < run.swept.size(); ++k)
      run.label += (k ? "/" : "") + names[k] + "=" + run.swept[k].label;
    try {
      run.config = parse_config(run_doc, source);
    } catch (const InputError& e) {
      throw explain_failure(x, point, index, run.label, e);
    }
    run.config.name = plan.name;
    run.id = run_id(run.config);
    const auto [it, fresh] = index_of_id.emplace(run.id, index);
    if (!fresh) {
      const RunSpec& first = plan.runs[it->second];
      throw InputError(
          source, "/sweep",
          "runs " + std::to_string(first.index) + " (" + first.label + ") and " +
              std::to_string(index) + " (" + run.label + ") resolve to the same config (id " +
              run.id +
              "); a value is listed twice, or written two ways that mean the same (3 and 3.0)");
    }
    plan.runs.push_back(std::move(run));
  }
  return plan;
}

std::vector<RunSpec> shard_runs(const std::vector<RunSpec>& runs, std::size_t i, std::size_t n) {
  GF_ASSERT(n >= 1 && i < n);
  std::vector<RunSpec> shard;
  for (const RunSpec& run : runs) {
    if (run.index % n == i) shard.push_back(run);
  }
  return shard;
}

}  // namespace gradflow
