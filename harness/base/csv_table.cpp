// CSV tables of gradflow's own results; see csv_table.hpp.
#include "base/csv_table.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <istream>
#include <limits>
#include <sstream>
#include <unordered_set>

#include "base/errors.hpp"
#include "base/path_kind.hpp"

namespace gradflow {
std::string_view trim_blanks(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The one CSV state machine (RFC 4180), shared by splitting, counting and record joining so
// they never disagree on where a field ends: a quote opens a quoted field only at the field's
// start (after blanks); inside it, "" is one quote and a lone quote closes it; after the closing
// quote, text up to the comma is ignored. A quote anywhere else is an ordinary character.
// `open`: inside quotes when `s` begins (a record continued from the previous line), and on
// return whether it still is. Returns the field count; fills `fields` when given.
std::size_t scan_csv(std::string_view s, bool& open, std::vector<std::string>* fields) {
  std::size_t count = 1;
  std::string field;
  bool quoted = open;  // this field began with a quote: content kept verbatim
  bool closed = false; // its closing quote was seen
  const auto finish = [&] {
    if (fields) fields->emplace_back(quoted ? std::string_view(field) : trim_blanks(field));
    field.clear();
    quoted = closed = false;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (open) {
      if (c != '"') {
        if (fields) field += c;
      } else if (i + 1 < s.size() && s[i + 1] == '"') {
        if (fields) field += '"';
        ++i;
      } else {
        open = false;
        closed = true;
      }
    } else if (c == ',') {
      ++count;
      finish();
    } else if (closed) {
      continue;
    } else if (c == '"' && !quoted && trim_blanks(field).empty()) {
      field.clear();
      quoted = open = true;
    } else if (fields || !is_blank(c)) {
      field += c;  // counting only needs to know whether the field is still blank
    }
  }
  finish();
  return count;
}

}  // namespace

std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> fields;
  bool open = false;
  scan_csv(line, open, &fields);
  return fields;
}

std::size_t count_csv_fields(std::string_view record) {
  bool open = false;
  return scan_csv(record, open, nullptr);
}

bool quote_open_after(std::string_view piece, bool open) {
  scan_csv(piece, open, nullptr);
  return open;
}

bool read_csv_record(std::istream& in, std::string& record, std::size_t& line,
                     std::size_t& first_line, const std::string& file) {
  record.clear();
  if (!std::getline(in, record)) return false;
  first_line = ++line;
  std::string more;
  for (bool open = quote_open_after(record, false); open;) {
    if (!std::getline(in, more))
      throw InputError(file, "",
                       "line " + std::to_string(first_line) +
                           ": a quoted field is not closed before the end of the file");
    ++line;
    record += '\n';
    record += more;
    open = quote_open_after(more, open);
  }
  return true;
}

std::string csv_field(std::string_view text) {
  const bool blank_edge = !text.empty() && (is_blank(text.front()) || is_blank(text.back()));
  if (!blank_edge && text.find_first_of(",\"\n\r") == std::string_view::npos)
    return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

CsvTable parse_csv_table(std::string_view text, const std::string& source) {
  CsvTable table;
  table.source = source;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  std::size_t line_number = 0;
  while (!text.empty()) {
    // A record runs to the first newline outside quotes.
    const std::size_t first_line = line_number + 1;
    std::size_t end = 0;
    for (bool open = false;;) {
      const std::size_t newline = text.find('\n', end);
      const std::size_t piece_end = newline == std::string_view::npos ? text.size() : newline;
      ++line_number;
      open = quote_open_after(text.substr(end, piece_end - end), open);
      end = piece_end;
      if (!open) break;
      if (newline == std::string_view::npos)
        throw InputError(source, "",
                         "line " + std::to_string(first_line) +
                             ": a quoted field is not closed before the end of the file");
      ++end;  // the newline belongs to the quoted field
    }
    const std::string_view line = trim_blanks(text.substr(0, end));
    text.remove_prefix(end == text.size() ? end : end + 1);
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
                       "line " + std::to_string(first_line) + ": " +
                           std::to_string(fields.size()) + " fields, but the header has " +
                           std::to_string(table.header.size()));
    table.rows.push_back(std::move(fields));
    table.lines.push_back(first_line);
  }
  if (table.header.empty()) throw InputError(source, "", "empty file: expected a header row");
  return table;
}

CsvTable read_csv_table(const std::string& path) {
  const PathInfo info = inspect_path(path);
  if (const std::string problem = regular_file_problem(info); !problem.empty())
    throw InputError(path, "", "cannot read: " + problem);
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
