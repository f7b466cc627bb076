// Safe JSON reading and path-tracking typed reads; see config_reader.hpp for the contract.
#include "config/config_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <set>
#include <system_error>

#include "base/errors.hpp"
#include "base/path_kind.hpp"

namespace gradflow {
namespace {

// Shortest text that reads back as the same double: 0, 1, 0.1, 1e-08.
std::string format_number(double x) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, x);
  return std::string(buffer, result.ptr);
}

std::string join(std::span<const std::string_view> names) {
  std::string text;
  for (std::string_view name : names) {
    if (!text.empty()) text += ", ";
    text += name;
  }
  return text;
}

std::string in_quotes(std::string_view text) { return describe_value(Json(std::string(text))); }

// Line and column (1-based, columns in bytes) of the last character nlohmann read; `byte` is
// the count of characters read, so that character sits at index byte - 1.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t byte) {
  const std::size_t pos = std::min(byte == 0 ? 0 : byte - 1, text.size());
  const std::size_t line = 1 + std::count(text.begin(), text.begin() + pos, '\n');
  const std::size_t last_newline = text.rfind('\n', pos == 0 ? 0 : pos - 1);
  const bool has_newline = pos > 0 && last_newline != std::string_view::npos;
  const std::size_t column = has_newline ? pos - last_newline : pos + 1;
  return {line, column};
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 5:
// <reason>"; keep only the reason, since we report the position ourselves.
std::string parse_error_reason(const std::string& what) {
  std::size_t pos = what.find("column ");
  if (pos != std::string::npos) pos = what.find(": ", pos);
  return pos == std::string::npos ? what : what.substr(pos + 2);
}

// State of the parser callback: one frame per open object or list, enough to name the path
// of the element being parsed and to see a key twice in one object.
struct OpenContainer {
  bool is_object = false;
  std::string key;           // objects: the current key
  std::size_t elements = 0;  // lists: elements started so far
  std::set<std::string, std::less<>> keys;
};

std::string path_through(const std::vector<OpenContainer>& open, std::size_t count) {
  std::string path;
  for (std::size_t i = 0; i < count; ++i) {
    path = open[i].is_object ? pointer_append(path, open[i].key)
                             : pointer_append(path, open[i].elements - 1);
  }
  return path;
}

std::string integer_constraint(std::int64_t min, std::int64_t max) {
  constexpr auto lowest = std::numeric_limits<std::int64_t>::min();
  constexpr auto highest = std::numeric_limits<std::int64_t>::max();
  if (max == highest) {
    return min == lowest ? "an integer" : "an integer >= " + std::to_string(min);
  }
  if (min == lowest) return "an integer <= " + std::to_string(max);
  return "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
}

std::string lower_bound_text(const NumberRange& r) {
  return (r.min_open ? "> " : ">= ") + format_number(r.min);
}
std::string upper_bound_text(const NumberRange& r) {
  return (r.max_open ? "< " : "<= ") + format_number(r.max);
}

std::string number_constraint(const NumberRange& r) {
  const bool has_min = std::isfinite(r.min), has_max = std::isfinite(r.max);
  if (has_min && has_max) {
    return std::string("a number in ") + (r.min_open ? "(" : "[") + format_number(r.min) + ", " +
           format_number(r.max) + (r.max_open ? ")" : "]");
  }
  if (has_min) return "a number " + lower_bound_text(r);
  if (has_max) return "a number " + upper_bound_text(r);
  return "a number";
}

}  // namespace

std::string read_text_file(const std::string& path, std::size_t max_bytes) {
  const auto cannot_read = [&](int error) {
    return InputError(path, "", "cannot read file: " + std::generic_category().message(error));
  };
  // Classified first: a folder is refused by name, and a pipe (`run <(...)`, /dev/stdin) is
  // opened without blocking, so a FIFO nobody writes to reads as empty instead of hanging.
  const PathInfo info = inspect_path(path);
  if (info.kind != PathKind::regular && info.kind != PathKind::other)
    throw InputError(path, "", "cannot read file: " + regular_file_problem(info));
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw cannot_read(errno);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // then read as usual
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(::fdopen(fd, "rb"), &std::fclose);
  if (!file) {
    const int error = errno;
    ::close(fd);
    throw cannot_read(error);
  }
  // Read in chunks rather than trusting a size from stat: pipes and /proc files have none.
  std::string text;
  char chunk[1 << 16];
  while (true) {
    const std::size_t n = std::fread(chunk, 1, sizeof chunk, file.get());
    text.append(chunk, n);
    if (text.size() > max_bytes) {
      throw InputError(path, "",
                       "refusing to read: larger than the " + std::to_string(max_bytes >> 20) +
                           " MiB limit for JSON input (a config is a few kilobytes; is this "
                           "the right file?)");
    }
    if (n < sizeof chunk) break;
  }
  if (std::ferror(file.get())) throw cannot_read(errno);  // e.g. EISDIR for a folder
  return text;
}

Json parse_json_text(std::string_view text, const std::string& where) {
  // nlohmann's lexer stops at a NUL byte and would accept whatever came before it.
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    const auto [line, column] = line_and_column(text, nul + 1);
    throw InputError(where, "",
                     "invalid JSON at line " + std::to_string(line) + ", column " +
                         std::to_string(column) + ": a NUL byte (a config is text)");
  }
  std::vector<OpenContainer> open;
  const auto element_starts = [&] {
    if (!open.empty() && !open.back().is_object) ++open.back().elements;
  };
  const Json::parser_callback_t check = [&](int depth, Json::parse_event_t event, Json& parsed) {
    using Event = Json::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        element_starts();
        // nlohmann parses iteratively, but copying, dumping and comparing a document recurse.
        if (depth + 1 > kMaxJsonDepth) {
          throw InputError(where, path_through(open, open.size()),
                           "JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                               " levels of objects and lists (a config needs a handful)");
        }
        open.push_back({event == Event::object_start, {}, 0, {}});
        break;
      case Event::key: {
        OpenContainer& object = open.back();
        object.key = parsed.get<std::string>();
        if (!object.keys.insert(object.key).second) {
          throw InputError(
              where, path_through(open, open.size() - 1),
              "duplicate key " + in_quotes(object.key) + " (a key may appear once per object)");
        }
        break;
      }
      case Event::object_end:
      case Event::array_end:
        open.pop_back();
        break;
      case Event::value:
        element_starts();
        break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), check);
  } catch (const Json::parse_error& e) {
    const auto [line, column] = line_and_column(text, e.byte);
    throw InputError(where, "",
                     "invalid JSON at line " + std::to_string(line) + ", column " +
                         std::to_string(column) + ": " + parse_error_reason(e.what()));
  } catch (const Json::out_of_range& e) {  // 1e999: "number overflow parsing '1e999'"
    throw InputError(where, "", "invalid JSON: " + parse_error_reason(e.what()));
  }
}

std::string pointer_append(const std::string& path, std::string_view key) {
  std::string result = path + "/";
  for (char c : key) {
    if (c == '~') {
      result += "~0";
    } else if (c == '/') {
      result += "~1";
    } else {
      result += c;
    }
  }
  return result;
}

std::string pointer_append(const std::string& path, std::size_t index) {
  return path + "/" + std::to_string(index);
}

std::string describe_value(const Json& value) {
  if (value.is_number_float() && !std::isfinite(value.get<double>())) {
    return format_number(value.get<double>());  // dump() would say null
  }
  // replace: a string from the command line may not be valid UTF-8; dump() would throw.
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  constexpr std::size_t kMaxShown = 60;
  if (text.size() > kMaxShown) text = text.substr(0, kMaxShown - 3) + "...";
  return text;
}

void fail_expected(const JsonAt& at, std::string_view expected) {
  throw InputError(at.source, at.path,
                   "expected " + std::string(expected) + ", got " + describe_value(*at.value));
}

void fail_at(const JsonAt& at, std::string message) {
  throw InputError(at.source, at.path, std::move(message));
}

std::int64_t read_integer(const JsonAt& at, std::int64_t min, std::int64_t max) {
  const Json& v = *at.value;
  const std::string whole = integer_constraint(min, max);
  std::int64_t n = 0;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max))
      fail_expected(at, "an integer <= " + std::to_string(max));
    n = static_cast<std::int64_t>(u);
  } else if (v.is_number_integer()) {
    n = v.get<std::int64_t>();
  } else if (v.is_number_float()) {
    // 3.0 is an integer written by a tool that only has doubles; 3.5 is a mistake.
    const double d = v.get<double>();
    constexpr double kTwo63 = 9223372036854775808.0;
    if (!std::isfinite(d) || d != std::floor(d) || d < -kTwo63 || d >= kTwo63) {
      fail_expected(at, whole);
    }
    n = static_cast<std::int64_t>(d);
  } else {
    fail_expected(at, whole);
  }
  if (n < min) fail_expected(at, "an integer >= " + std::to_string(min));
  if (n > max) fail_expected(at, "an integer <= " + std::to_string(max));
  return n;
}

std::uint64_t read_unsigned(const JsonAt& at) {
  const Json& v = *at.value;
  const char* whole = "an integer >= 0";
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {  // signed storage: negative, or -0
    if (v.get<std::int64_t>() == 0) return 0;
    fail_expected(at, whole);
  }
  if (!v.is_number_float()) fail_expected(at, whole);
  const double d = v.get<double>();
  if (!std::isfinite(d) || d != std::floor(d) || d < 0) fail_expected(at, whole);
  if (d >= 18446744073709551616.0) fail_expected(at, "an integer <= 18446744073709551615");
  return static_cast<std::uint64_t>(d);
}

double read_number(const JsonAt& at, NumberRange range) {
  const Json& v = *at.value;
  if (!v.is_number()) fail_expected(at, number_constraint(range));
  const double x = v.get<double>();
  if (!std::isfinite(x)) fail_expected(at, "a finite number");
  if (x < range.min || (range.min_open && x == range.min)) {
    fail_expected(at, "a number " + lower_bound_text(range));
  }
  if (x > range.max || (range.max_open && x == range.max)) {
    fail_expected(at, "a number " + upper_bound_text(range));
  }
  return x;
}

std::string read_path(const JsonAt& at) {
  std::string path = read_string(at);
  if (path.find('\0') != std::string::npos)
    fail_at(at, "expected a path, got " + describe_value(*at.value) + ", which holds a NUL byte");
  return path;
}

bool read_bool(const JsonAt& at) {
  if (!at.value->is_boolean()) fail_expected(at, "true or false");
  return at.value->get<bool>();
}

std::string read_string(const JsonAt& at) {
  if (!at.value->is_string()) fail_expected(at, "a string");
  return at.value->get<std::string>();
}

std::size_t read_choice(const JsonAt& at, std::span<const std::string_view> names) {
  const std::string expected = "one of " + join(names);
  if (!at.value->is_string()) fail_expected(at, expected);
  const std::string& given = at.value->get_ref<const std::string&>();
  const auto it = std::find(names.begin(), names.end(), given);
  if (it != names.end()) return static_cast<std::size_t>(it - names.begin());
  std::string message = "expected " + expected + ", got " + describe_value(*at.value);
  if (const auto guess = closest_name(given, names)) {
    message += "; did you mean " + in_quotes(*guess) + "?";
  }
  fail_at(at, message);
}

std::vector<JsonAt> read_list(const JsonAt& at, std::size_t min_size) {
  const std::string expected = min_size == 0 ? "a list"
                               : min_size == 1
                                   ? "a non-empty list"
                                   : "a list of at least " + std::to_string(min_size) + " entries";
  if (!at.value->is_array() || at.value->size() < min_size) fail_expected(at, expected);
  std::vector<JsonAt> items;
  for (std::size_t i = 0; i < at.value->size(); ++i) {
    items.push_back({&(*at.value)[i], at.source, pointer_append(at.path, i)});
  }
  return items;
}

std::vector<std::string> read_string_list(const JsonAt& at, std::size_t min_size) {
  std::vector<std::string> strings;
  for (const JsonAt& item : read_list(at, min_size)) strings.push_back(read_string(item));
  return strings;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rolling rows of the optimal-string-alignment table; rows are over b.
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string_view> closest_name(std::string_view given,
                                             std::span<const std::string_view> candidates) {
  if (given.empty()) return std::nullopt;
  // Case is ignored: "RELU" means "relu".
  const auto lower = [](std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string wanted = lower(given);
  // Two edits turn most 3-letter words into each other ("foo" -> "log"); short names get one.
  const std::size_t max_distance = given.size() <= 4 ? 1 : 2;
  std::optional<std::string_view> best;
  std::size_t best_distance = max_distance + 1;
  for (std::string_view name : candidates) {
    // A length gap over 2 already means a distance over 2; skipping keeps a hostile
    // megabyte-long key from costing a megabyte-squared table.
    const std::size_t gap =
        given.size() > name.size() ? given.size() - name.size() : name.size() - given.size();
    if (gap > max_distance) continue;
    const std::size_t d = edit_distance(wanted, lower(name));
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  if (best) return best;
  // A prefix either way: "act" for "activation", "batch_sizes" for "batch_size".
  for (std::string_view name : candidates) {
    const std::string candidate = lower(name);
    if (given.size() >= 2 && (candidate.starts_with(wanted) || wanted.starts_with(candidate))) {
      return name;
    }
  }
  return std::nullopt;
}

ObjectReader::ObjectReader(JsonAt at) : at_(std::move(at)) {
  if (!at_.value->is_object()) fail_expected(at_, "an object");
}

bool ObjectReader::has(std::string_view key) const { return at_.value->contains(std::string(key)); }

std::optional<JsonAt> ObjectReader::take(std::string_view key) {
  const std::string name(key);
  if (std::find(known_.begin(), known_.end(), name) == known_.end()) known_.push_back(name);
  const auto it = at_.value->find(name);
  if (it == at_.value->end()) return std::nullopt;
  taken_.push_back(name);
  return JsonAt{&*it, at_.source, pointer_append(at_.path, key)};
}

std::int64_t ObjectReader::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                   std::int64_t max) {
  const auto value = take(key);
  return value ? read_integer(*value, min, max) : fallback;
}

double ObjectReader::number(std::string_view key, double fallback, NumberRange range) {
  const auto value = take(key);
  return value ? read_number(*value, range) : fallback;
}

bool ObjectReader::boolean(std::string_view key, bool fallback) {
  const auto value = take(key);
  return value ? read_bool(*value) : fallback;
}

std::string ObjectReader::string(std::string_view key, std::string fallback) {
  const auto value = take(key);
  return value ? read_string(*value) : std::move(fallback);
}

void ObjectReader::finish() const {
  for (const auto& [key, value] : at_.value->items()) {
    if (key == "$comment") {
      read_string({&value, at_.source, pointer_append(at_.path, key)});
      continue;
    }
    if (std::find(taken_.begin(), taken_.end(), key) != taken_.end()) continue;
    const std::vector<std::string_view> known(known_.begin(), known_.end());
    std::string message = "unknown key " + in_quotes(key);
    if (const auto guess = closest_name(key, known)) {
      message += "; did you mean " + in_quotes(*guess) + "?";
    } else {
      message += "; valid keys here: " + join(known);
    }
    fail_at(at_, message);
  }
}

}  // namespace gradflow
