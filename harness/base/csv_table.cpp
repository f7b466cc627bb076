// CSV tables of gradflow's own results; see csv_table.hpp.
#include "base/csv_table.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_set>

#include "base/errors.hpp"

namespace gradflow {
std::string_view trim_blanks(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> fields;
  std::size_t i = 0;
  for (;;) {
    std::string field;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i < line.size() && line[i] == '"') {
      for (++i; i < line.size(); ++i) {
        if (line[i] != '"') {
          field += line[i];
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          ++i;  // the closing quote; anything up to the comma is ignored
          break;
        }
      }
    }
    const std::size_t comma = line.find(',', i);
    if (field.empty()) field = line.substr(i, comma == std::string_view::npos ? comma : comma - i);
    fields.emplace_back(trim_blanks(field));
    if (comma == std::string_view::npos) return fields;
    i = comma + 1;
  }
}

CsvTable parse_csv_table(std::string_view text, const std::string& source) {
  CsvTable table;
  table.source = source;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = trim_blanks(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    if (line.empty()) continue;
    std::vector<std::string> fields = split_csv_line(line);
    if (table.header.empty()) {
      std::unordered_set<std::string> seen;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].empty())
          throw InputError(source, "", "header: column " + std::to_string(i + 1) + " has no name");
        if (!seen.insert(fields[i]).second)
          throw InputError(source, "", "header: column \"" + fields[i] + "\" appears twice");
      }
      table.header = std::move(fields);
      continue;
    }
    if (fields.size() != table.header.size())
      // Typically a file cut short while being written, or two writers interleaving.
      throw InputError(source, "",
                       "line " + std::to_string(line_number) + ": " +
                           std::to_string(fields.size()) + " fields, but the header has " +
                           std::to_string(table.header.size()));
    table.rows.push_back(std::move(fields));
    table.lines.push_back(line_number);
  }
  if (table.header.empty()) throw InputError(source, "", "empty file: expected a header row");
  return table;
}

CsvTable read_csv_table(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(path, "", "no such file");
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(path, "", "cannot read: not a regular file");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(
        path, "",
        std::string("cannot read: ") + (errno != 0 ? std::strerror(errno) : "cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(path, "", "read error");
  return parse_csv_table(text.str(), path);
}

std::optional<std::size_t> find_column(const CsvTable& table, std::string_view name) {
  for (std::size_t i = 0; i < table.header.size(); ++i)
    if (table.header[i] == name) return i;
  return std::nullopt;
}

std::size_t require_column(const CsvTable& table, std::string_view name) {
  if (const auto i = find_column(table, name)) return *i;
  throw InputError(table.source, "", "no column \"" + std::string(name) + "\" in the header");
}

std::optional<double> parse_number(std::string_view cell) {
  cell = trim_blanks(cell);
  if (cell.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (cell.size() > 1 && cell.front() == '+') cell.remove_prefix(1);  // from_chars: no '+'
  double value = 0;
  // from_chars accepts "nan", "inf", "infinity" in any case, with an optional '-'.
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (end != cell.data() + cell.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Still a number: strtod gives +-inf on overflow and 0 (or a denormal) on underflow.
    return std::strtod(std::string(cell).c_str(), nullptr);
  }
  if (ec != std::errc()) return std::nullopt;
  return value;
}

double number_at(const CsvTable& table, std::size_t row, std::size_t column) {
  const std::string& cell = table.rows[row][column];
  if (const auto v = parse_number(cell)) return *v;
  throw InputError(table.source, "",
                   "line " + std::to_string(table.lines[row]) + ", column \"" +
                       table.header[column] + "\": not a number: \"" + cell.substr(0, 40) + "\"");
}

}  // namespace gradflow
