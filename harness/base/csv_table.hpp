// A small reader for the CSV files gradflow itself writes (runs.csv, layers.csv, steps.csv):
// every cell kept as text, so compare and summarize decide per column what is a number.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

// Format (RFC 4180): a header row, then one record per row; fields separated by commas; a field
// wrapped in double quotes may hold commas, quotes (doubled), newlines and carriage returns, and
// its content is kept verbatim (runs.csv quotes swept values such as bias_init objects and
// strings); unquoted fields are trimmed; CRLF line ends tolerated; blank lines skipped.
struct CsvTable {
  std::string source;  // the file it came from, for messages
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each exactly header.size() cells
  std::vector<std::size_t> lines;              // 1-based file line where each row starts
};

// Throws InputError naming the file: not a regular file, unreadable, empty (no header), a
// duplicate or empty column name, a quoted field never closed, or a ragged row (naming its line
// and the field counts).
CsvTable read_csv_table(const std::string& path);
CsvTable parse_csv_table(std::string_view text, const std::string& source);

// `s` without surrounding spaces, tabs and carriage returns.
std::string_view trim_blanks(std::string_view s);

// One CSV record's fields. An unquoted field is trimmed; a field wrapped in double quotes keeps
// its content verbatim (commas, newlines, blanks), and "" inside it stands for one quote.
std::vector<std::string> split_csv_line(std::string_view line);

// The record's field count (commas outside quotes + 1), without allocating: a hostile line of
// 10^7 commas is measured before it is split.
std::size_t count_csv_fields(std::string_view record);

// Whether a record is still inside a quoted field after `piece`, given it was (`open`) before:
// a record continues onto the next line while this is true.
bool quote_open_after(std::string_view piece, bool open);

// One record from `in` (lines joined by '\n' while a quoted field is open); false at the end.
// `line` counts physical lines read; `first_line` is where the record starts. A quoted field
// still open at the end of the input is an InputError naming `file` and the line.
bool read_csv_record(std::istream& in, std::string& record, std::size_t& line,
                     std::size_t& first_line, const std::string& file);

// `text` as one CSV field that split_csv_line reads back as `text`: quoted (quotes doubled)
// when it holds a comma, quote, newline or carriage return, or starts or ends with a blank.
std::string csv_field(std::string_view text);

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
