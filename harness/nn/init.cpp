// Weight and bias initializers, each with the paper behind its scale. All draws come from the
// run's own Rng (never std:: distributions or Eigen::Random), so a seed gives the same weights
// on every toolchain.

#include "nn/init.hpp"

#include <Eigen/QR>
#include <algorithm>
#include <cmath>

#include "base/errors.hpp"

namespace gradflow {

constexpr std::array<std::string_view, kWeightInitCount> kWeightInitNames = {
    "normal",     "uniform",   "xavier_uniform", "xavier_normal",
    "he_uniform", "he_normal", "lecun_normal",   "orthogonal", "delta_orthogonal",
};
static_assert(static_cast<std::size_t>(WeightInit::delta_orthogonal) + 1 == kWeightInitCount,
              "add the new initializer to kWeightInitNames and to every switch");
static_assert(std::none_of(kWeightInitNames.begin(), kWeightInitNames.end(),
                           [](std::string_view n) { return n.empty(); }),
              "kWeightInitNames has fewer entries than kWeightInitCount");

namespace {

enum class Family { normal, uniform, orthogonal };

// Every initializer is a zero-mean normal (std), a symmetric uniform (limit), or orthogonal.
struct Scale {
  Family family;
  double value;  // std for normal, limit for uniform, gain for orthogonal
};

Scale scale_of(const WeightInitSpec& spec, long fan_in, long fan_out) {
  GF_ASSERT(fan_in > 0 && fan_out > 0);
  const double fi = double(fan_in), fo = double(fan_out), g = spec.gain;
  // He et al. 2015, "Delving Deep into Rectifiers", eq. 10 (Var W = 2 / fan_in) and its PReLU
  // form Var W = 2 / ((1 + a^2) fan_in), a the negative slope.
  const double he_std = g * std::sqrt(2.0 / ((1.0 + spec.leaky_slope * spec.leaky_slope) * fi));
  switch (spec.kind) {
    case WeightInit::normal:
      return {Family::normal, spec.std};
    case WeightInit::uniform:
      return {Family::uniform, spec.limit};
    case WeightInit::xavier_uniform:
      // Glorot & Bengio 2010, eq. 16: U(-sqrt(6/(fan_in+fan_out)), +sqrt(6/(fan_in+fan_out))).
      return {Family::uniform, g * std::sqrt(6.0 / (fi + fo))};
    case WeightInit::xavier_normal:
      // Same variance as eq. 16, Var W = 2 / (fan_in + fan_out), drawn from a normal.
      return {Family::normal, g * std::sqrt(2.0 / (fi + fo))};
    case WeightInit::he_uniform:
      // Uniform with He's variance: limit = sqrt(3) * std.
      return {Family::uniform, std::sqrt(3.0) * he_std};
    case WeightInit::he_normal:
      return {Family::normal, he_std};
    case WeightInit::lecun_normal:
      // LeCun et al. 1998, "Efficient BackProp", sec. 4.6: Var W = 1 / fan_in; the init SELU's
      // fixed point assumes (Klambauer et al. 2017).
      return {Family::normal, g / std::sqrt(fi)};
    case WeightInit::orthogonal:
    case WeightInit::delta_orthogonal:  // on a dense W; conv kernels: network_init.cpp
      return {Family::orthogonal, g};
  }
  GF_ASSERT(false && "unknown weight init");
  return {Family::normal, 0.0};
}

// Saxe et al. 2014, "Exact solutions to the nonlinear dynamics of learning in deep linear
// networks": orthogonal W keeps every singular value at `gain`. The QR of a Gaussian matrix
// gives Q; multiplying Q's columns by sign(diag R) makes it Haar-distributed (Mezzadri 2007,
// "How to generate random matrices from the classical compact groups", sec. 5); without it
// Householder QR's sign convention biases Q. Tall W (fan_out >= fan_in) gets orthonormal
// columns (W^T W = gain^2 I), wide W orthonormal rows (W W^T = gain^2 I).
void fill_orthogonal(double gain, Eigen::Ref<MatD> w, Rng& rng) {
  const long rows = w.rows(), cols = w.cols();
  // The Gaussian is drawn in W's own shape, column-major, like every other initializer;
  // a wide W is factored through its transpose.
  MatD g(rows, cols);
  for (long j = 0; j < cols; ++j)
    for (long i = 0; i < rows; ++i) g(i, j) = rng.normal();
  const bool wide = rows < cols;
  if (wide) g.transposeInPlace();  // now tall: (max, min)

  const long m = g.rows(), n = g.cols();
  Eigen::HouseholderQR<MatD> qr(g);
  MatD q = qr.householderQ() * MatD::Identity(m, n);  // thin Q, (m, n)
  for (long k = 0; k < n; ++k) {
    if (qr.matrixQR()(k, k) < 0) q.col(k) *= -1.0;
  }
  q *= gain;
  if (wide) {
    w = q.transpose();
  } else {
    w = q;
  }
}

}  // namespace

std::string_view weight_init_name(WeightInit w) {
  const auto i = static_cast<std::size_t>(w);
  GF_ASSERT(i < kWeightInitCount);
  return kWeightInitNames[i];
}

bool parse_weight_init(std::string_view name, WeightInit& out) {
  // Keras spells Glorot's and He's initializers after the authors, PyTorch says "kaiming".
  if (name == "glorot_uniform") name = "xavier_uniform";
  if (name == "glorot_normal") name = "xavier_normal";
  if (name == "kaiming_uniform") name = "he_uniform";
  if (name == "kaiming_normal") name = "he_normal";
  for (std::size_t i = 0; i < kWeightInitCount; ++i) {
    if (kWeightInitNames[i] == name) {
      out = static_cast<WeightInit>(i);
      return true;
    }
  }
  return false;
}

// Draw order, fixed so a seed means the same weights forever: one draw per element, column by
// column (column-major, W(0,0), W(1,0), ...), rows*cols draws in total for every initializer.
// Normals are untruncated (as in PyTorch; Keras truncates its he_/lecun_normal at 2 std).
void init_weights(const WeightInitSpec& spec, Eigen::Ref<MatD> w, Rng& rng) {
  if (w.size() == 0) return;
  const Scale s = scale_of(spec, w.cols(), w.rows() * spec.receptive_field);
  switch (s.family) {
    case Family::normal:
      for (long j = 0; j < w.cols(); ++j)
        for (long i = 0; i < w.rows(); ++i) w(i, j) = s.value * rng.normal();
      return;
    case Family::uniform:
      for (long j = 0; j < w.cols(); ++j)
        for (long i = 0; i < w.rows(); ++i) w(i, j) = rng.uniform(-s.value, s.value);
      return;
    case Family::orthogonal:
      fill_orthogonal(s.value, w, rng);
      return;
  }
}

// A constant bias draws nothing; a normal bias draws one normal per element, in order.
void init_bias(const BiasInitSpec& spec, Eigen::Ref<VecD> b, Rng& rng) {
  switch (spec.kind) {
    case BiasInit::constant:
      b.setConstant(spec.value);
      return;
    case BiasInit::normal:
      for (long i = 0; i < b.size(); ++i) b(i) = spec.mean + spec.std * rng.normal();
      return;
  }
  GF_ASSERT(false && "unknown bias init");
}

double weight_init_std(const WeightInitSpec& spec, long fan_in, long fan_out) {
  const Scale s = scale_of(spec, fan_in, fan_out);
  switch (s.family) {
    case Family::normal:
      return s.value;
    case Family::uniform:  // Var U(-l, l) = l^2 / 3
      return s.value / std::sqrt(3.0);
    case Family::orthogonal:
      // ||W||_F^2 = gain^2 min(fan_in, fan_out) (orthonormal columns or rows) spread over
      // fan_in fan_out entries: gain / sqrt(max(fan_in, fan_out)); gain / sqrt(fan_in) if square.
      return s.value / std::sqrt(double(std::max(fan_in, fan_out)));
  }
  GF_ASSERT(false && "unknown weight init");
  return 0.0;
}

}  // namespace gradflow
