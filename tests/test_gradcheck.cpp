// Backward pass against central finite differences, float64, for every activation x both
// losses through a 3-hidden-layer net (dlib-style: one helper, one line per case).
#include <catch2/catch.hpp>

#include <cmath>

#include "config/config.hpp"
#include "nn/init.hpp"
#include "nn/loss.hpp"
#include "nn/network.hpp"
#include "nn/rng.hpp"

using namespace gradflow;

namespace {

struct Problem {
  Network<double> mlp;
  Workspace<double> ws;
  ActivationSpec activation;
  std::vector<int> labels;
  MatD targets;
  Loss loss;
};

double loss_value(Problem& p, bool with_gradient) {
  network_forward(p.mlp, p.ws);
  MatD* d = with_gradient ? &dlogits(p.mlp.layout, p.ws) : nullptr;
  const MatD& z = logits(p.mlp.layout, p.ws);
  const double v = p.loss == Loss::cross_entropy
                       ? softmax_cross_entropy<double>(z, p.labels, d).loss
                       : mean_squared_error<double>(z, p.targets, d).loss;
  if (with_gradient) network_backward(p.mlp, p.ws);
  return v;
}

// The dense layers (hidden ones, then the output layer): layers 0, 2, 4, ... of a plain MLP.
std::vector<const Layer*> dense_layers(const Problem& p) {
  std::vector<const Layer*> out;
  for (const Layer& l : p.mlp.layout.layers)
    if (l.kind == LayerKind::dense) out.push_back(&l);
  return out;
}

// Dense layer l's pre-activations z_l = W_l a_{l-1} + b_l (batch as columns), recomputed from
// the previous layer's output: training overwrites z with a in place (nn/network.cpp).
MatD preactivations(const Problem& p, std::size_t l) {
  const MatD& in = l == 0 ? p.ws.input : p.ws.out(p.mlp.layout.layers[2 * l - 1]);
  MatD z = p.mlp.tensor(2 * l) * in;
  z.colwise() += VecD(p.mlp.tensor(2 * l + 1));
  return z;
}

// Smallest |z| over every hidden pre-activation: kinks (relu, leaky_relu, selu) must be
// further from the inputs than the finite-difference step can move them.
double closest_to_kink(const Problem& p) {
  double m = INFINITY;
  const std::vector<const Layer*> dense = dense_layers(p);
  for (std::size_t l = 0; l + 1 < dense.size(); ++l)
    m = std::min(m, preactivations(p, l).cwiseAbs().minCoeff());
  return m;
}

Problem make_problem(Activation act, Loss loss, std::uint64_t seed) {
  const double param = act == Activation::leaky_relu ? 0.1 : act == Activation::elu ? 0.7 : 0.0;
  const NetworkLayout layout = make_mlp_layout(4, {5, 6, 5}, 3, {act, param});
  Problem p{make_network<double>(layout), make_workspace<double>(layout, 7, Pass::train),
            {act, param}, {}, {}, loss};
  Rng rng = make_rng(seed, "gradcheck");
  WeightInitSpec w;
  w.kind = WeightInit::xavier_normal;
  w.gain = 1.5;
  BiasInitSpec b{BiasInit::normal, 0, 0.1, 0.3};
  for (std::size_t l = 0; 2 * l < layout.tensors.size(); ++l) {
    MatD wl(layout.tensors[2 * l].rows, layout.tensors[2 * l].cols);
    VecD bl(layout.tensors[2 * l + 1].rows);
    init_weights(w, wl, rng);
    init_bias(b, bl, rng);
    p.mlp.tensor(2 * l) = wl;
    p.mlp.tensor(2 * l + 1) = bl;
  }
  for (Eigen::Index i = 0; i < p.ws.input.size(); ++i) p.ws.input.data()[i] = rng.normal();
  p.targets = MatD(3, 7);
  for (Eigen::Index i = 0; i < p.targets.size(); ++i) p.targets.data()[i] = rng.normal();
  for (int j = 0; j < 7; ++j) p.labels.push_back(int(rng.below(3)));
  return p;
}

// The activations of the enum, one per GENERATE branch: a new activation is checked too.
Activation every_activation() {
  return Activation(GENERATE(range(std::size_t(0), kActivationCount)));
}

// A problem whose pre-activations all sit >= 1e-3 from a kink (seed search), gradients done.
Problem away_from_kinks(Activation act, Loss loss) {
  Problem p = make_problem(act, loss, 1);
  loss_value(p, true);
  for (std::uint64_t seed = 2; closest_to_kink(p) < 1e-3 && seed < 50; ++seed) {
    p = make_problem(act, loss, seed);
    loss_value(p, true);
  }
  REQUIRE(closest_to_kink(p) >= 1e-3);
  return p;
}

// Example i's own loss l_i as a function of its pre-activations at layer l (0-based; the last
// is the logits): the rest of the network run forward on that one column.
double example_loss_from(const Problem& p, std::size_t l, const VecD& z, long i) {
  const std::size_t layers = dense_layers(p).size();
  VecD current = z;
  for (std::size_t k = l + 1; k < layers; ++k) {
    VecD a = current.unaryExpr([&](double x) { return activation_value(p.activation, x); });
    current = p.mlp.tensor(2 * k) * a + p.mlp.tensor(2 * k + 1);
  }
  const MatD logits = current;
  if (p.loss == Loss::cross_entropy)
    return softmax_cross_entropy<double>(logits, {p.labels[std::size_t(i)]}, nullptr).loss;
  const MatD target = p.targets.col(i);
  return mean_squared_error<double>(logits, target, nullptr).loss;
}

}  // namespace

TEST_CASE("delta, per example, matches finite differences of the example's own loss",
          "[gradcheck]") {
  // delta_norm rests on dl_i/dz_l, the per-example back-propagated signal; ws.delta holds
  // d(mean loss)/dz = (1/B) dl_i/dz_l in column i.
  const Activation act = every_activation();
  const auto loss = GENERATE(Loss::cross_entropy, Loss::mse);
  INFO("activation " << activation_name(act) << ", loss " << int(loss));
  Problem p = away_from_kinks(act, loss);
  const double h = 1e-5, batch = double(p.ws.batch());
  double worst = 0;
  const std::vector<const Layer*> dense = dense_layers(p);
  for (std::size_t l = 0; l < dense.size(); ++l) {
    const MatD zl = preactivations(p, l);
    for (long i = 0; i < p.ws.batch(); ++i)
      for (Eigen::Index u = 0; u < zl.rows(); ++u) {
        VecD z = zl.col(i);
        z[u] += h;
        const double up = example_loss_from(p, l, z, i);
        z[u] -= 2 * h;
        const double down = example_loss_from(p, l, z, i);
        const double numeric = (up - down) / (2 * h);
        const double analytic = batch * p.ws.dout(*dense[l])(u, i);
        const double scale = std::max({std::abs(numeric), std::abs(analytic), 1e-4});
        worst = std::max(worst, std::abs(numeric - analytic) / scale);
      }
  }
  INFO("largest relative error " << worst);
  // Central differences at h = 1e-5 err by ~h^2 |d3 l/dz3| / 6: up to 1.3e-6 of a small entry
  // for selu, whose exponential side has the largest third derivative here.
  REQUIRE(worst < 1e-5);
}

TEST_CASE("backward pass matches central finite differences", "[gradcheck]") {
  const Activation act = every_activation();
  const auto loss = GENERATE(Loss::cross_entropy, Loss::mse);
  INFO("activation " << activation_name(act) << ", loss " << int(loss));

  const double h = 1e-5;
  Problem p = away_from_kinks(act, loss);
  const VecD analytic = p.mlp.grads;

  double worst = 0;
  for (Eigen::Index i = 0; i < p.mlp.params.size(); ++i) {
    const double saved = p.mlp.params[i];
    p.mlp.params[i] = saved + h;
    const double up = loss_value(p, false);
    p.mlp.params[i] = saved - h;
    const double down = loss_value(p, false);
    p.mlp.params[i] = saved;
    const double numeric = (up - down) / (2 * h);
    const double scale = std::max({std::abs(numeric), std::abs(analytic[i]), 1e-4});
    worst = std::max(worst, std::abs(numeric - analytic[i]) / scale);
  }
  INFO("largest relative error " << worst << " over " << p.mlp.params.size() << " parameters");
  REQUIRE(worst < 1e-6);
}

TEST_CASE("float32 backward pass agrees with float64, every activation and loss", "[gradcheck]") {
  const Activation act = every_activation();
  const auto loss = GENERATE(Loss::cross_entropy, Loss::mse);
  INFO("activation " << activation_name(act) << ", loss " << int(loss));
  Problem p = away_from_kinks(act, loss);
  Network<float> f = make_network<float>(p.mlp.layout);
  f.params = p.mlp.params.cast<float>();
  Workspace<float> ws = make_workspace<float>(p.mlp.layout, 7, Pass::train);
  ws.input = p.ws.input.cast<float>();
  network_forward(f, ws);
  const Mat<float> targets = p.targets.cast<float>();
  if (loss == Loss::cross_entropy)
    softmax_cross_entropy<float>(logits(f.layout, ws), p.labels, &dlogits(f.layout, ws));
  else
    mean_squared_error<float>(logits(f.layout, ws), targets, &dlogits(f.layout, ws));
  network_backward(f, ws);
  const double err = (f.grads.cast<double>() - p.mlp.grads).norm() / p.mlp.grads.norm();
  INFO("relative difference " << err);
  REQUIRE(err < 1e-5);
}
