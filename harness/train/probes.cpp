// Measurements behind layers.csv. Definitions are in records.hpp and docs/output.md.
#include "train/probes.hpp"

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

StepSquares make_step_squares(long num_layers) {
  const std::size_t n = std::size_t(num_layers);
  return {std::vector<double>(n, 0.0), std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
}

template <class T>
double gradient_squares(const Mlp<T>& mlp, StepSquares& squares) {
  double total = 0;
  for (long l = 0; l < mlp.layout.num_layers(); ++l) {
    const std::size_t i = std::size_t(l);
    squares.grad_w[i] = squared_norm_wide(mlp.dw(l).data(), std::size_t(mlp.dw(l).size()));
    squares.grad_b[i] = squared_norm_wide(mlp.db(l).data(), std::size_t(mlp.db(l).size()));
    total += squares.grad_w[i] + squares.grad_b[i];
  }
  return norm_given_squared(mlp.grads.data(), std::size_t(mlp.grads.size()), total);
}

template <class T>
void delta_squares(const Workspace<T>& ws, StepSquares& squares) {
  for (std::size_t l = 0; l < ws.delta.size(); ++l)
    squares.delta[l] = squared_norm_wide(ws.delta[l].data(), std::size_t(ws.delta[l].size()));
}

template <class T>
void measure_gradients(const Mlp<T>& mlp, const Workspace<T>& ws, const StepSquares& squares,
                       const std::vector<double>* weight_norms,
                       std::vector<LayerRecord>& records) {
  const long n = mlp.layout.num_layers();
  GF_ASSERT(long(records.size()) == n);
  const double sqrt_batch = std::sqrt(double(ws.batch()));
  auto from_squares = [](const auto& m, double sq) {
    return norm_given_squared(m.data(), std::size_t(m.size()), sq);
  };
  for (long l = 0; l < n; ++l) {
    const std::size_t i = std::size_t(l);
    LayerRecord& r = records[i];
    r.grad_w_norm = from_squares(mlp.dw(l), squares.grad_w[i]);
    r.grad_b_norm = from_squares(mlp.db(l), squares.grad_b[i]);
    // ws.delta holds d(mean loss)/dz = (1/B) d l_i/dz per column, so the RMS over examples of
    // ||d l_i / dz|| is B * sqrt(||delta||^2 / B) = sqrt(B) * ||delta||_F.
    r.delta_norm = sqrt_batch * from_squares(ws.delta[i], squares.delta[i]);
    r.weight_norm = weight_norms ? (*weight_norms)[i] : norm_wide(mlp.w(l));
    r.bias_norm = norm_wide(mlp.b(l));
  }
}

void clear_probe_fields(LayerRecord& r) {
  r.preact_mean = r.preact_std = r.act_mean = r.act_std = kNaN;
  r.dead_fraction = r.inactive_fraction = r.saturated_fraction = kNaN;
}

template <class T>
ProbeSet<T> make_probe_set(const Examples& probe, long outputs) {
  ProbeSet<T> set;
  set.x = probe.x.cast<T>();
  set.labels = probe.labels;
  if (probe.y.size()) {
    set.y = probe.y.cast<T>();
  } else {
    set.y = Mat<T>::Zero(outputs, probe.x.cols());
    for (long j = 0; j < probe.x.cols(); ++j) set.y(probe.labels[std::size_t(j)], j) = T(1);
  }
  return set;
}

template <class T>
ProbeOutcome measure_probe(const Mlp<T>& mlp, Task task, bool cross_entropy, ProbeSet<T>& probe,
                           std::vector<LayerRecord>& records, UnitStates* unit_states) {
  const long n = mlp.layout.num_layers();
  const long count = probe.x.cols();
  const T saturation = T(0.01 * activation_max_derivative(mlp.activation));
  const Mat<T>* in = &probe.x;
  for (long l = 0; l < n; ++l) {
    const LayerShape& s = mlp.layout.layers[std::size_t(l)];
    auto [it, fresh] = probe.by_width.try_emplace(s.fan_out);
    auto& buf = it->second;
    if (fresh) {
      buf.z.resize(s.fan_out, count);
      buf.a.resize(s.fan_out, count);
      buf.dphi.resize(s.fan_out, count);
      buf.row_max_z.resize(s.fan_out);
      buf.row_max_dphi.resize(s.fan_out);
    }
    // The input of this layer may live in the buffer of the same width: compute z first.
    buf.z.noalias() = mlp.w(l) * (*in);
    buf.z.colwise() += mlp.b(l);
    LayerRecord& r = records[std::size_t(l)];
    const Moments zm = moments(buf.z);
    r.preact_mean = zm.mean;
    r.preact_std = zm.std;
    if (l + 1 == n) break;  // the output layer: logits, no nonlinearity
    activate<T>(mlp.activation, buf.z, buf.a, &buf.dphi);
    const Moments am = moments(buf.a);
    r.act_mean = am.mean;
    r.act_std = am.std;
    // Per-unit maxima over the probe inputs, column by column (vectorised, no allocation).
    buf.row_max_z.setConstant(-std::numeric_limits<T>::infinity());
    buf.row_max_dphi.setZero();
    for (long j = 0; j < count; ++j) {
      buf.row_max_z = buf.row_max_z.cwiseMax(buf.z.col(j));
      buf.row_max_dphi = buf.row_max_dphi.cwiseMax(buf.dphi.col(j).cwiseAbs());
    }
    const double units = double(s.fan_out);
    r.inactive_fraction = double((buf.row_max_z.array() <= T(0)).count()) / units;
    r.dead_fraction = double((buf.row_max_dphi.array() == T(0)).count()) / units;
    if (unit_states) {
      std::vector<std::uint8_t>& dead = unit_states->dead[std::size_t(l)];
      for (long u = 0; u < s.fan_out; ++u) dead[std::size_t(u)] = buf.row_max_dphi[u] == T(0);
    }
    r.saturated_fraction =
        double((buf.dphi.array().abs() < saturation).count()) / double(buf.dphi.size());
    in = &buf.a;
  }
  const Mat<T>& logits = probe.by_width.at(mlp.layout.outputs).z;
  ProbeOutcome out;
  if (task == Task::classification && cross_entropy) {
    const LossValue v = softmax_cross_entropy<T>(logits, probe.labels, nullptr);
    out.loss = v.loss;
    out.accuracy = double(v.correct) / double(count);
  } else if (task == Task::classification) {
    out.loss = mean_squared_error<T>(logits, probe.y, nullptr).loss;
    out.accuracy = double(count_correct<T>(logits, probe.labels)) / double(count);
  } else {
    out.loss = mean_squared_error<T>(logits, probe.y, nullptr).loss;
  }
  if (!std::isfinite(out.loss)) out.accuracy = kNaN;  // argmax of NaN logits means nothing
  return out;
}

#define GRADFLOW_INSTANTIATE(T)                                                           \
  template double gradient_squares<T>(const Mlp<T>&, StepSquares&);                     \
  template void delta_squares<T>(const Workspace<T>&, StepSquares&);                    \
  template void measure_gradients<T>(const Mlp<T>&, const Workspace<T>&,                \
                                     const StepSquares&, const std::vector<double>*,     \
                                     std::vector<LayerRecord>&);                        \
  template ProbeSet<T> make_probe_set<T>(const Examples&, long);                              \
  template ProbeOutcome measure_probe<T>(const Mlp<T>&, Task, bool, ProbeSet<T>&,       \
                                         std::vector<LayerRecord>&, UnitStates*);
GRADFLOW_INSTANTIATE(float)
GRADFLOW_INSTANTIATE(double)
#undef GRADFLOW_INSTANTIATE

}  // namespace gradflow
