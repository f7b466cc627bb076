// A small reader for the CSV files gradflow itself writes (runs.csv, layers.csv, steps.csv):
// every cell kept as text, so compare and summarize decide per column what is a number.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

// Format: a header row, then one row per line; fields separated by commas, a field that holds
// commas quoted as in RFC 4180 (runs.csv quotes swept values such as bias_init objects); CRLF
// line ends tolerated; blank lines skipped.
struct CsvTable {
  std::string source;  // the file it came from, for messages
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each exactly header.size() cells
  std::vector<std::size_t> lines;              // 1-based file line of each row
};

// Throws InputError naming the file: unreadable, empty (no header), a duplicate or empty
// column name, or a ragged row (naming its line and the field counts).
CsvTable read_csv_table(const std::string& path);
CsvTable parse_csv_table(std::string_view text, const std::string& source);

// `s` without surrounding spaces, tabs and carriage returns.
std::string_view trim_blanks(std::string_view s);

// One CSV line's fields, each trimmed. A field wrapped in double quotes may hold commas, and
// "" inside it stands for one quote (RFC 4180); its content is trimmed too.
std::vector<std::string> split_csv_line(std::string_view line);

// Index of `name` in the header, or nullopt.
std::optional<std::size_t> find_column(const CsvTable& table, std::string_view name);
// Same, but a missing column is an InputError naming the file and the column.
std::size_t require_column(const CsvTable& table, std::string_view name);

// A numeric cell as our writers produce it: shortest round-trip decimal, "nan", "inf",
// "-inf" (any case, optional '+'); an empty cell is NaN (a missing value). nullopt for text.
std::optional<double> parse_number(std::string_view cell);

// The cell as a number; text is an InputError naming the file, line and column.
double number_at(const CsvTable& table, std::size_t row, std::size_t column);

}  // namespace gradflow
