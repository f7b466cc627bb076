// libFuzzer target over the CSV readers: the data loader (read_csv_dataset, what `data.kind:
// "csv"` runs) and the reader of our own tables (parse_csv_table, what summarize, compare and
// report run). Bad input must end in an InputError; any other exception, a crash, a hang or a
// sanitizer report is a bug, and so is a table that does not read back as itself once written
// with csv_field. Build and run: scripts/fuzz.sh [SECONDS] csv_data_fuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "base/csv_table.hpp"
#include "base/errors.hpp"
#include "data/csv_data.hpp"

namespace {

using namespace gradflow;

[[noreturn]] void invariant_broken(const char* what, std::string_view input) {
  std::fprintf(stderr, "csv readers: %s\n%.*s\n", what, int(input.size()), input.data());
  std::abort();
}

// The first byte picks the task and column settings, so one corpus covers them all.
DataConfig data_config(unsigned char mode) {
  DataConfig d;
  d.kind = DataKind::csv;
  d.path = "fuzz.csv";
  d.train_size = 1 + (mode >> 4);
  d.probe_size = 1 + ((mode >> 2) & 3);
  d.standardize = (mode & 0x40) != 0;
  switch (mode & 3) {
    case 0:
      d.label_column = "label";
      d.classes = 0;  // counted from the labels present
      break;
    case 1:
      d.label_column = "label";
      d.classes = 3;
      break;
    case 2:
      d.target_columns = {"y"};
      break;
    case 3:
      d.label_column = "label";
      d.classes = 0;
      d.feature_columns = {"a", "b"};
      break;
  }
  return d;
}

std::string serialize(const CsvTable& t) {
  const auto row_text = [](const std::vector<std::string>& row) {
    if (row.size() == 1 && row[0].empty()) return std::string("\"\"");  // else a blank line
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) line += (i ? "," : "") + csv_field(row[i]);
    return line;
  };
  std::string text = row_text(t.header) + "\n";
  // The reader drops one leading byte-order mark; a cell that starts with one keeps it.
  if (text.starts_with("\xEF\xBB\xBF")) text = "\xEF\xBB\xBF" + text;
  for (const auto& row : t.rows) text += row_text(row) + "\n";
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    std::istringstream in{std::string(text)};
    (void)read_csv_dataset(in, "fuzz.csv", data_config(data[0]), data[0], "fuzz.json");
  } catch (const InputError& e) {
    if (std::string_view(e.what()).empty()) invariant_broken("an InputError without text", text);
  }
  try {
    const CsvTable table = parse_csv_table(text, "fuzz.csv");
    const std::string written = serialize(table);
    const CsvTable again = parse_csv_table(written, "fuzz.csv");
    if (again.header != table.header || again.rows != table.rows)
      invariant_broken("a table written with csv_field does not read back as itself", text);
  } catch (const InputError& e) {
    if (std::string_view(e.what()).empty()) invariant_broken("an InputError without text", text);
  }
  return 0;
}
