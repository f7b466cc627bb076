// Formatting of records into CSV rows and JSON documents. One constant column list per CSV;
// numbers are written in the shortest form that reads back to the same double, so files are
// byte-identical across reruns and lossless for pandas.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "train/records.hpp"

namespace gradflow {

extern const std::vector<std::string_view> kLayerColumns;
extern const std::vector<std::string_view> kStepColumns;
extern const std::vector<std::string_view> kLifecycleColumns;

// Shortest round-trip decimal; "nan", "inf", "-inf" for non-finite values (pandas reads all).
std::string format_number(double v);

// "col1,col2,...\n", each prefixed by `prefix_columns` (e.g. {"run_id"} for sweep tables).
std::string csv_header(const std::vector<std::string_view>& columns,
                       const std::vector<std::string_view>& prefix_columns = {});

// Appends one row; `prefix` is inserted verbatim before the record's fields (e.g. "ab12cd,").
void append_layer_row(std::string& out, std::string_view prefix, const LayerRecord& r);
void append_step_row(std::string& out, std::string_view prefix, const StepRecord& r);
void append_lifecycle_row(std::string& out, std::string_view prefix, const LifecycleRecord& r);

std::string_view run_status_name(RunStatus s);
Json summary_to_json(const RunSummary& s);

// The resolved config plus the build that ran it, under "provenance" (ignored when the file
// is used as a config again, so a run folder's config.json reproduces the run).
Json config_with_provenance(const Config& c);

}  // namespace gradflow
