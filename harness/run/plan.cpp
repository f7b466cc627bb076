// Work estimates for `gradflow plan`; see plan.hpp.
#include "run/plan.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "data/data.hpp"
#include "base/errors.hpp"
#include "config/network_layout.hpp"

namespace gradflow {
namespace {

NetworkShape csv_shape(const Config& config) {
  const Dataset data =
      make_dataset(config.data, config.data.seed.value_or(config.seed), config.source);
  return {data.inputs, data.outputs, data.image_shape};
}

}  // namespace

NetworkShape network_shape(const Config& config) {
  const DataConfig& d = config.data;
  switch (d.kind) {
    case DataKind::gaussian_mixture:
      return {d.dim, d.classes, {}};
    case DataKind::spirals:
      return {2, d.classes, {}};
    case DataKind::teacher_student:
    case DataKind::gaussian_targets:
      return {d.dim, d.outputs, {}};
    case DataKind::csv:
    case DataKind::fashion_mnist:
    case DataKind::idx:
    case DataKind::npy:
      return csv_shape(config);
  }
  GF_ASSERT(false && "unknown DataKind");
  return {};
}

WorkEstimate estimate_work(const std::vector<RunSpec>& runs) {
  WorkEstimate work;
  // The shape of a file data set depends on its file and columns, not on the run's seed, so runs
  // that differ elsewhere share one load. Keyed by folder + resolved data section.
  std::map<std::string, NetworkShape> csv_shapes;
  for (const RunSpec& run : runs) {
    const Config& c = run.config;
    NetworkShape shape;
    if (is_file_data(c.data.kind)) {
      const std::string key = c.base_dir + "\n" + to_json(c)["data"].dump();
      auto it = csv_shapes.find(key);
      if (it == csv_shapes.end()) it = csv_shapes.emplace(key, network_shape(c)).first;
      shape = it->second;
    } else {
      shape = network_shape(c);
    }
    RunWork w;
    w.parameters =
        network_layout(c, network_input(shape.inputs, shape.image_shape), shape.outputs)
            .parameter_count;
    w.steps = c.train.steps;
    w.parameter_steps = double(w.parameters) * double(w.steps);
    work.total += w.parameter_steps;
    work.largest = std::max(work.largest, w.parameter_steps);
    work.runs.push_back(w);
  }
  return work;
}

}  // namespace gradflow
