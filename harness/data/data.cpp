// Synthetic data sets and the make_dataset dispatch. Every generator draws train_size +
// probe_size i.i.d. examples from the single stream make_rng(seed, "data") and then splits them:
// the first train_size are the training set, the rest the held-out probe set.
#include "data/data.hpp"

#include <cmath>
#include <numbers>

#include "nn/activation.hpp"
#include "data/csv_data.hpp"
#include "data/file_data.hpp"
#include "base/errors.hpp"
#include "nn/init.hpp"
#include "nn/rng.hpp"

namespace gradflow {
namespace {

// Columns [begin, begin + count) of `all`.
Examples take(const Examples& all, long begin, long count) {
  Examples part;
  part.x = all.x.middleCols(begin, count);
  if (all.y.size() > 0) part.y = all.y.middleCols(begin, count);
  if (!all.labels.empty())
    part.labels.assign(all.labels.begin() + begin, all.labels.begin() + begin + count);
  return part;
}

// Generation is i.i.d., so the first train_size examples and the rest are a fair split.
Dataset split(Task task, long outputs, const Examples& all, long train_size) {
  Dataset data;
  data.task = task;
  data.inputs = all.x.rows();
  data.outputs = outputs;
  data.train = take(all, 0, train_size);
  data.probe = take(all, train_size, all.size() - train_size);
  return data;
}

void fill_normal(Eigen::Ref<MatD> m, Rng& rng) {
  for (long j = 0; j < m.cols(); ++j)
    for (long i = 0; i < m.rows(); ++i) m(i, j) = rng.normal();
}

// Z-scores each row (target dimension) of y with the mean and standard deviation of its first
// `train_size` columns, so statistics never look at the probe set. A constant row is only
// centred (dividing by a zero std would make NaNs).
void standardize_rows(MatD& y, long train_size) {
  for (long r = 0; r < y.rows(); ++r) {
    const double mean = y.row(r).head(train_size).mean();
    const double var = (y.row(r).head(train_size).array() - mean).square().mean();
    y.row(r).array() -= mean;
    if (var > 0) y.row(r) /= std::sqrt(var);
  }
}

// Class k's mean is separation * (a uniformly random unit direction): drawn first from the
// stream. Each example: label uniform in [0, classes), then x = mean + N(0, I).
Examples gaussian_mixture(const DataConfig& d, long n, Rng& rng) {
  MatD means(d.dim, d.classes);  // (dim, classes)
  for (long k = 0; k < d.classes; ++k) {
    fill_normal(means.col(k), rng);
    const double length = norm(means.col(k));
    // A normal vector of length exactly 0 has probability 0; guard anyway.
    if (length > 0) means.col(k) *= d.separation / length;
  }
  Examples all;
  all.x.resize(d.dim, n);
  all.labels.resize(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    const long label = static_cast<long>(rng.below(static_cast<std::uint64_t>(d.classes)));
    all.labels[static_cast<std::size_t>(i)] = static_cast<int>(label);
    for (long f = 0; f < d.dim; ++f) all.x(f, i) = means(f, label) + rng.normal();
  }
  return all;
}

// Interleaved spirals (Lang & Witbrock 1988, generalised to `classes` arms). A point of arm k at
// arm parameter t ~ U(0, 1) has radius t and angle 2*pi*(turns * t + k / classes), plus
// N(0, noise^2) jitter per coordinate. t is uniform, so points are uniform in radius (denser
// per unit of arc length near the centre, as in the classic data set).
//
// Scale: with the angle spread over whole turns, E[x1^2] ~= E[t^2] / 2 + noise^2
// = 1/6 + noise^2 and E[x1] ~= 0, so both features are multiplied by 1 / sqrt(1/6 + noise^2)
// to have roughly unit variance (the residual, of order 1 / (2*pi*turns)^2, depends on turns).
Examples spirals(const DataConfig& d, long n, Rng& rng) {
  const double scale = 1.0 / std::sqrt(1.0 / 6.0 + d.noise * d.noise);
  Examples all;
  all.x.resize(2, n);
  all.labels.resize(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    const long arm = static_cast<long>(rng.below(static_cast<std::uint64_t>(d.classes)));
    const double t = rng.uniform01();
    const double angle =
        2.0 * std::numbers::pi * (d.turns * t + static_cast<double>(arm) / d.classes);
    const double jitter1 = rng.normal(), jitter2 = rng.normal();
    all.labels[static_cast<std::size_t>(i)] = static_cast<int>(arm);
    all.x(0, i) = scale * (t * std::cos(angle) + d.noise * jitter1);
    all.x(1, i) = scale * (t * std::sin(angle) + d.noise * jitter2);
  }
  return all;
}

// y = teacher(x) for a random MLP: teacher_depth hidden layers of teacher_width units with
// teacher_activation, LeCun-normal weights (std 1/sqrt(fan_in): first-layer pre-activations
// have unit variance; the output scale still drifts with depth and activation, which the
// standardisation in teacher_student removes), zero biases, a linear output of `outputs`
// units. Its weights come from its own stream make_rng(seed, "teacher").
MatD teacher_forward(const DataConfig& d, const MatD& x, std::uint64_t seed) {
  Rng rng = make_rng(seed, "teacher");
  const ActivationSpec activation{d.teacher_activation, 0.0};
  WeightInitSpec init;
  init.kind = WeightInit::lecun_normal;
  MatD h = x;  // (fan_in, n)
  for (long layer = 0; layer <= d.teacher_depth; ++layer) {
    const bool output = layer == d.teacher_depth;
    MatD w(output ? d.outputs : d.teacher_width, h.rows());  // (fan_out, fan_in)
    init_weights(init, w, rng);
    MatD z = w * h;  // (fan_out, n)
    if (!output) z = z.unaryExpr([&](double v) { return activation_value(activation, v); });
    h = std::move(z);
  }
  return h;  // (outputs, n)
}

// x ~ N(0, I_dim). The clean teacher output is standardised with training statistics, then
// noise * N(0, 1) is added and the result standardised again. So `noise` is a noise-to-signal
// ratio whatever the teacher's raw output scale (which varies a lot with activation and depth),
// and the final targets have zero mean and unit variance on the training set, making MSE
// comparable across configs: predicting 0 scores 1, the noise floor is noise^2 / (1 + noise^2).
Examples teacher_student(const DataConfig& d, long n, long train_size, std::uint64_t seed,
                         Rng& rng) {
  Examples all;
  all.x.resize(d.dim, n);
  fill_normal(all.x, rng);
  all.y = teacher_forward(d, all.x, seed);
  standardize_rows(all.y, train_size);
  if (d.noise > 0) {
    for (long i = 0; i < n; ++i)
      for (long o = 0; o < d.outputs; ++o) all.y(o, i) += d.noise * rng.normal();
    standardize_rows(all.y, train_size);
  }
  return all;
}

// x ~ N(0, I_dim) and y ~ N(0, I_outputs) independent of x: the errors at initialisation are
// then uncorrelated with the inputs, isolating the network's own effect on gradient flow.
Examples gaussian_targets(const DataConfig& d, long n, Rng& rng) {
  Examples all;
  all.x.resize(d.dim, n);
  all.y.resize(d.outputs, n);
  for (long i = 0; i < n; ++i) {
    fill_normal(all.x.col(i), rng);
    fill_normal(all.y.col(i), rng);
  }
  return all;
}

}  // namespace

bool dataset_uses_seed(const DataConfig& d) { return d.kind != DataKind::fashion_mnist; }

Dataset make_dataset(const DataConfig& d, std::uint64_t seed, const std::string& config_source,
                     Precision precision) {
  // Sizes were validated with the config; here they are invariants.
  GF_ASSERT(d.train_size >= 1 && d.probe_size >= 0);
  // CSV data stays in double, as synthetic data: the theory's input moments are taken on it,
  // and holding float32 would move float32 runs' predictions.
  if (d.kind == DataKind::csv) return load_csv_dataset(d, seed, config_source);
  if (d.kind == DataKind::fashion_mnist) return load_fashion_mnist(d, config_source, precision);
  if (d.kind == DataKind::idx) return load_idx_dataset(d, seed, config_source, precision);
  if (d.kind == DataKind::npy) return load_npy_dataset(d, seed, config_source, precision);

  const long n = d.train_size + d.probe_size;
  Rng rng = make_rng(seed, "data");
  switch (d.kind) {
    case DataKind::gaussian_mixture:
      GF_ASSERT(d.dim >= 1 && d.classes >= 1);
      return split(Task::classification, d.classes, gaussian_mixture(d, n, rng), d.train_size);
    case DataKind::spirals:
      GF_ASSERT(d.classes >= 1);
      return split(Task::classification, d.classes, spirals(d, n, rng), d.train_size);
    case DataKind::teacher_student:
      GF_ASSERT(d.dim >= 1 && d.outputs >= 1 && d.teacher_depth >= 0 && d.teacher_width >= 1);
      return split(Task::regression, d.outputs, teacher_student(d, n, d.train_size, seed, rng),
                   d.train_size);
    case DataKind::gaussian_targets:
      GF_ASSERT(d.dim >= 1 && d.outputs >= 1);
      return split(Task::regression, d.outputs, gaussian_targets(d, n, rng), d.train_size);
    case DataKind::csv:
    case DataKind::fashion_mnist:
    case DataKind::idx:
    case DataKind::npy:
      break;  // handled above
  }
  GF_ASSERT(false && "unknown data kind");
  return {};
}

}  // namespace gradflow
