// Reading JSON safely (size and nesting limits, line/column on syntax errors) and walking a
// parsed document while tracking where each value came from (file + JSON pointer), so every
// validation error can say which key broke which constraint, and what was found instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

using Json = nlohmann::ordered_json;

// Configs are a few kilobytes; the limits only stop hostile or mistaken input (a data file
// passed as a config) from exhausting memory, or the stack in recursive copies and dumps.
inline constexpr std::size_t kMaxJsonBytes = 16u << 20;  // 16 MiB
inline constexpr int kMaxJsonDepth = 64;                 // nested objects/arrays

// The whole file as bytes. InputError(path, "", "cannot read file: <reason>") when it is
// missing or unreadable, and a refusal naming the limit when it is larger than `max_bytes`.
std::string read_text_file(const std::string& path, std::size_t max_bytes = kMaxJsonBytes);

// Strict JSON (no comments). Syntax errors become InputError(where, "", "invalid JSON at line
// L, column C: <reason>"), columns counted in bytes; nesting deeper than kMaxJsonDepth and
// duplicate keys in one object are errors too (nlohmann would keep the last one silently).
Json parse_json_text(std::string_view text, const std::string& where);

// One value of a document and where it is.
struct JsonAt {
  const Json* value = nullptr;
  std::string source;  // the file (or "--set") for messages
  std::string path;    // JSON pointer: "/model/depth"; "" is the root
};

// `path` extended by an object key (escaped per RFC 6901) or by an array index.
std::string pointer_append(const std::string& path, std::string_view key);
std::string pointer_append(const std::string& path, std::size_t index);

// The value as written in JSON: strings quoted, long containers cut to ~60 characters.
std::string describe_value(const Json& value);

// Throws InputError(source, path, "expected <expected>, got <value as written>").
[[noreturn]] void fail_expected(const JsonAt& at, std::string_view expected);
// Throws InputError(source, path, message) for constraints that involve other keys.
[[noreturn]] void fail_at(const JsonAt& at, std::string message);

// A closed interval, open at either end on request; bounds may be infinite.
struct NumberRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false;  // min itself is excluded
  bool max_open = false;
};
inline NumberRange at_least(double min) { return {min, std::numeric_limits<double>::infinity()}; }
inline NumberRange above(double min) {
  return {min, std::numeric_limits<double>::infinity(), true, false};
}
inline constexpr NumberRange kUnitHalfOpen = {0.0, 1.0, false, true};  // [0, 1)

// Typed reads of one value. Out of range, the message names the bound that was broken
// ("expected an integer >= 1, got -3"); of the wrong type, it states the whole constraint.
// Integers may be written 3.0 (integral floats are accepted), booleans are never numbers,
// and numbers must be finite.
std::int64_t read_integer(const JsonAt& at, std::int64_t min,
                          std::int64_t max = std::numeric_limits<std::int64_t>::max());
std::uint64_t read_unsigned(const JsonAt& at);  // 0 .. 2^64-1, for seeds
double read_number(const JsonAt& at, NumberRange range = {});
bool read_bool(const JsonAt& at);
std::string read_string(const JsonAt& at);
// A file or folder name: a string without NUL bytes (one would cut the name short where the
// system reads it, naming another file than the one written).
std::string read_path(const JsonAt& at);
// The index of the value in `names`; otherwise "expected one of a, b, c, got "x"" with a
// did-you-mean when a name is close.
std::size_t read_choice(const JsonAt& at, std::span<const std::string_view> names);
// The elements of a list, each with its own path ("/model/width/2").
std::vector<JsonAt> read_list(const JsonAt& at, std::size_t min_size = 0);
std::vector<std::string> read_string_list(const JsonAt& at, std::size_t min_size = 0);

// Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("rleu").
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate `given` was most likely meant to be: the nearest within distance 2 (1 for names
// of up to 4 characters), else one that is a prefix of the other; none when nothing is close.
std::optional<std::string_view> closest_name(std::string_view given,
                                             std::span<const std::string_view> candidates);

// Walks one JSON object. Every key asked for (present or not) becomes a known key of this
// object; finish() then rejects the first key that was never asked for, suggesting the
// closest known key or else listing them all. Any object may carry a "$comment" string,
// which is ignored.
class ObjectReader {
 public:
  explicit ObjectReader(JsonAt at);  // throws unless the value is an object

  const JsonAt& at() const { return at_; }
  bool has(std::string_view key) const;
  // The value under `key` with its path, or none when absent.
  std::optional<JsonAt> take(std::string_view key);

  // Typed getters: `fallback` when the key is absent, else the checked value.
  std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max = std::numeric_limits<std::int64_t>::max());
  double number(std::string_view key, double fallback, NumberRange range = {});
  bool boolean(std::string_view key, bool fallback);
  std::string string(std::string_view key, std::string fallback);
  template <class Enum>
  Enum choice(std::string_view key, Enum fallback, std::span<const std::string_view> names) {
    const auto value = take(key);
    return value ? static_cast<Enum>(read_choice(*value, names)) : fallback;
  }

  void finish() const;

 private:
  JsonAt at_;
  std::vector<std::string> known_;
  std::vector<std::string> taken_;
};

}  // namespace gradflow
