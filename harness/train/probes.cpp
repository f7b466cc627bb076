// Measurements behind layers.csv. Definitions are in records.hpp and docs/output.md.
#include "train/probes.hpp"

#include <algorithm>
#include <cmath>

#include "base/errors.hpp"

namespace gradflow {
namespace {

struct Moments {
  double mean = 0;
  double std = 0;
};

// Two passes (mean, then squared deviations) in double: one-pass formulas lose everything
// when |mean| >> std, which is exactly what happens to saturated units.
template <class T>
Moments moments(const Mat<T>& m) {
  const std::size_t n = std::size_t(m.size());
  const T* p = m.data();
  double s0 = 0, s1 = 0;
  std::size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    s0 += double(p[i]);
    s1 += double(p[i + 1]);
  }
  if (i < n) s0 += double(p[i]);
  const double mean = (s0 + s1) / double(n);
  double d0 = 0, d1 = 0;
  for (i = 0; i + 2 <= n; i += 2) {
    const double a = double(p[i]) - mean, b = double(p[i + 1]) - mean;
    d0 += a * a;
    d1 += b * b;
  }
  if (i < n) d0 += (double(p[i]) - mean) * (double(p[i]) - mean);
  return {mean, std::sqrt((d0 + d1) / double(n))};
}

}  // namespace

StepSquares make_step_squares(const NetworkLayout& layout) {
  const std::size_t n = std::size_t(layout.num_rows());
  return {std::vector<double>(n, 0.0), std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
}

template <class T>
double gradient_squares(const Network<T>& net, StepSquares& squares) {
  std::fill(squares.grad_w.begin(), squares.grad_w.end(), 0.0);
  std::fill(squares.grad_b.begin(), squares.grad_b.end(), 0.0);
  for (const ParamTensor& p : net.layout.tensors)
    (p.main ? squares.grad_w : squares.grad_b)[std::size_t(p.row)] =
        squared_norm_wide(net.grads.data() + p.offset, p.size());
  // Row by row, (weight + bias) then into the total: the order every baseline was summed in.
  double total = 0;
  for (std::size_t r = 0; r < squares.grad_w.size(); ++r) total += squares.grad_w[r] + squares.grad_b[r];
  return norm_given_squared(net.grads.data(), std::size_t(net.grads.size()), total);
}

namespace {

template <class F>
void for_each_layer(const std::vector<Layer>& layers, F f) {
  for (const Layer& l : layers) {
    f(l);
    for_each_layer(l.body, f);
  }
}

}  // namespace

template <class T>
void delta_squares(const NetworkLayout& layout, const Workspace<T>& ws, StepSquares& squares) {
  for_each_layer(layout.layers, [&](const Layer& l) {
    if (l.row < 0) return;
    const Mat<T>& d = ws.dout(l);
    squares.delta[std::size_t(l.row)] = squared_norm_wide(d.data(), std::size_t(d.size()));
    if (l.projection_row >= 0)
      squares.delta[std::size_t(l.projection_row)] = squares.delta[std::size_t(l.row)];
  });
}

template <class T>
void measure_gradients(const Network<T>& net, const Workspace<T>& ws, const StepSquares& squares,
                       const std::vector<double>* weight_norms,
                       std::vector<LayerRecord>& records) {
  const NetworkLayout& layout = net.layout;
  GF_ASSERT(long(records.size()) == layout.num_rows());
  const double sqrt_batch = std::sqrt(double(ws.batch()));
  for (std::size_t i = 0; i < records.size(); ++i) {
    const RowInfo& row = layout.rows[i];
    LayerRecord& r = records[i];
    if (row.main_tensor >= 0) {
      const ParamTensor& p = layout.tensors[std::size_t(row.main_tensor)];
      r.grad_w_norm = norm_given_squared(net.grads.data() + p.offset, p.size(), squares.grad_w[i]);
      r.weight_norm = weight_norms ? (*weight_norms)[i] : norm_wide(net.params.data() + p.offset, p.size());
    }
    if (row.bias_tensor >= 0) {
      const ParamTensor& p = layout.tensors[std::size_t(row.bias_tensor)];
      r.grad_b_norm = norm_given_squared(net.grads.data() + p.offset, p.size(), squares.grad_b[i]);
      r.bias_norm = norm_wide(net.params.data() + p.offset, p.size());
    }
  }
  for_each_layer(layout.layers, [&](const Layer& l) {
    if (l.row < 0) return;
    LayerRecord& r = records[std::size_t(l.row)];
    // ws.dout holds d(mean loss)/d out. Uncoupled layers: (1/B) dl_i/d out per column, so the
    // RMS over examples of ||dl_i/d out|| is B sqrt(||dout||^2 / B) = sqrt(B) ||dout||_F. For
    // batch norm, which couples examples, this defines delta_i as B dL/d out_i (docs/output.md).
    const Mat<T>& d = ws.dout(l);
    r.delta_norm = sqrt_batch * norm_given_squared(d.data(), std::size_t(d.size()),
                                                   squares.delta[std::size_t(l.row)]);
    if (l.projection_row >= 0) records[std::size_t(l.projection_row)].delta_norm = r.delta_norm;
    if (l.kind == LayerKind::prelu) {
      const Eigen::Map<const Vec<T>> a(net.params.data() + l.w, l.out_units);
      r.slope_mean = double(a.template cast<double>().mean());
      r.slope_min = double(a.minCoeff());
    }
    if (l.kind == LayerKind::residual)
      r.gate = l.scale_kind == ResidualScale::rezero ? double(net.params[Eigen::Index(l.w)]) : l.scale;
  });
}

void clear_probe_fields(LayerRecord& r) {
  r.preact_mean = r.preact_std = r.act_mean = r.act_std = kNaN;
  r.dead_fraction = r.inactive_fraction = r.saturated_fraction = kNaN;
}

std::vector<long> activation_widths(const NetworkLayout& layout) {
  std::vector<long> out;
  for_each_layer(layout.layers, [&](const Layer& l) {
    if (l.kind == LayerKind::activation || l.kind == LayerKind::prelu) out.push_back(tracked_units(l));
  });
  return out;
}

void describe_rows(const NetworkLayout& layout, std::vector<LayerRecord>& records) {
  GF_ASSERT(long(records.size()) == layout.num_rows());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const RowInfo& row = layout.rows[i];
    LayerRecord& r = records[i];
    r.layer = int(i + 1);
    r.kind = row.kind;
    r.fan_in = row.fan_in;
    r.fan_out = row.fan_out;
    r.output = row.kind == RowKind::output;
  }
  for_each_layer(layout.layers, [&](const Layer& l) {
    if (l.kind != LayerKind::conv2d) return;
    LayerRecord& r = records[std::size_t(l.row)];
    r.c_in = double(l.in_shape.c);
    r.c_out = double(l.out_shape.c);
    r.kernel = double(l.kernel);
    r.stride = double(l.stride);
    r.height = double(l.out_shape.h);
    r.width = double(l.out_shape.w);
  });
}

std::vector<int> activation_rows(const NetworkLayout& layout) {
  std::vector<int> out;
  for_each_layer(layout.layers, [&](const Layer& l) {
    if (l.kind == LayerKind::activation || l.kind == LayerKind::prelu) out.push_back(l.act_row);
  });
  return out;
}

template <class T>
ProbeSet<T> make_probe_set(const NetworkLayout& layout, const Examples& probe, long outputs) {
  ProbeSet<T> set;
  set.labels = probe.labels;
  if (probe.y.size()) {
    set.y = probe.y.cast<T>();
  } else {
    set.y = Mat<T>::Zero(outputs, probe.x.cols());
    for (long j = 0; j < probe.x.cols(); ++j) set.y(probe.labels[std::size_t(j)], j) = T(1);
  }
  set.ws = make_workspace<T>(layout, probe.x.cols(), Pass::eval);
  set.ws.input = probe.x.cast<T>();
  for_each_layer(layout.layers, [&](const Layer& l) {
    if (l.kind != LayerKind::activation && l.kind != LayerKind::prelu) return;
    auto& buf = set.by_width[l.out_units];
    buf.z.resize(l.out_units);
    buf.dphi.resize(l.out_units);
  });
  return set;
}

namespace {

// The probe statistics, taken layer by layer as the forward pass produces them.
template <class T>
struct ProbeStatistics final : LayerObserver<T> {
  ProbeSet<T>& probe;
  std::vector<LayerRecord>& records;
  UnitStates* unit_states;
  std::size_t activation_index = 0;

  ProbeStatistics(ProbeSet<T>& p, std::vector<LayerRecord>& r, UnitStates* u)
      : probe(p), records(r), unit_states(u) {}

  void after_forward(const Layer& l, const Mat<T>& in, Workspace<T>& ws) override {
    if (l.kind == LayerKind::activation || l.kind == LayerKind::prelu) {
      activation(l, in, ws);
      return;
    }
    if (l.kind == LayerKind::prelu || l.row < 0) return;
    const Moments zm = moments(ws.out(l));
    records[std::size_t(l.row)].preact_mean = zm.mean;
    records[std::size_t(l.row)].preact_std = zm.std;
  }

  void activation(const Layer& l, const Mat<T>& z, Workspace<T>& ws) {
    const std::size_t index = activation_index++;
    const Mat<T>& a = ws.out(l);
    const Mat<T>& dphi = ws.cache(l);
    auto& buf = probe.by_width.at(l.out_units);
    // Per-unit maxima over the probe inputs, column by column (vectorised, no allocation).
    buf.z.setConstant(-std::numeric_limits<T>::infinity());
    buf.dphi.setZero();
    for (long j = 0; j < z.cols(); ++j) {
      buf.z = buf.z.cwiseMax(z.col(j));
      buf.dphi = buf.dphi.cwiseMax(dphi.col(j).cwiseAbs());
    }
    // On images a unit is a channel (tracked_units): dead when phi' is 0 at all its positions.
    const long positions = l.out_shape.positions() > 1 ? l.out_shape.positions() : 1;
    const long tracked = l.out_units / positions;
    long dead_units = 0;
    for (long u = 0; u < tracked; ++u) {
      const bool dead = positions == 1 ? buf.dphi[u] == T(0)
                                       : buf.dphi.segment(u * positions, positions).maxCoeff() == T(0);
      dead_units += dead;
      if (unit_states) unit_states->dead[index][std::size_t(u)] = dead;
    }
    if (l.act_row < 0) return;
    LayerRecord& r = records[std::size_t(l.act_row)];
    const Moments am = moments(a);
    r.act_mean = am.mean;
    r.act_std = am.std;
    // inactive_fraction stays per value: a (channel, position) with z <= 0 on every probe input.
    r.inactive_fraction = double((buf.z.array() <= T(0)).count()) / double(l.out_units);
    r.dead_fraction = double(dead_units) / double(tracked);
    // prelu's largest slope is 1 (its positive side) for slopes in [0, 1].
    const double max_derivative =
        l.kind == LayerKind::prelu ? 1.0 : activation_max_derivative(l.activation);
    const T saturation = T(0.01 * max_derivative);
    r.saturated_fraction = double((dphi.array().abs() < saturation).count()) / double(dphi.size());
  }
};

}  // namespace

template <class T>
ProbeOutcome measure_probe(Network<T>& net, Task task, bool cross_entropy, ProbeSet<T>& probe,
                           std::vector<LayerRecord>& records, UnitStates* unit_states) {
  ProbeStatistics<T> stats(probe, records, unit_states);
  network_forward(net, probe.ws, &stats);
  const Mat<T>& out = logits(net.layout, probe.ws);
  const long count = out.cols();
  ProbeOutcome result;
  if (task == Task::classification && cross_entropy) {
    const LossValue v = softmax_cross_entropy<T>(out, probe.labels, nullptr);
    result.loss = v.loss;
    result.accuracy = double(v.correct) / double(count);
  } else if (task == Task::classification) {
    result.loss = mean_squared_error<T>(out, probe.y, nullptr).loss;
    result.accuracy = double(count_correct<T>(out, probe.labels)) / double(count);
  } else {
    result.loss = mean_squared_error<T>(out, probe.y, nullptr).loss;
  }
  if (!std::isfinite(result.loss)) result.accuracy = kNaN;  // argmax of NaN logits means nothing
  return result;
}

#define GRADFLOW_INSTANTIATE(T)                                                              \
  template double gradient_squares<T>(const Network<T>&, StepSquares&);                     \
  template void delta_squares<T>(const NetworkLayout&, const Workspace<T>&, StepSquares&);  \
  template void measure_gradients<T>(const Network<T>&, const Workspace<T>&,                \
                                     const StepSquares&, const std::vector<double>*,        \
                                     std::vector<LayerRecord>&);                            \
  template ProbeSet<T> make_probe_set<T>(const NetworkLayout&, const Examples&, long);       \
  template ProbeOutcome measure_probe<T>(Network<T>&, Task, bool, ProbeSet<T>&,             \
                                         std::vector<LayerRecord>&, UnitStates*);
GRADFLOW_INSTANTIATE(float)
GRADFLOW_INSTANTIATE(double)
#undef GRADFLOW_INSTANTIATE

}  // namespace gradflow
