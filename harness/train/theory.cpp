// Mean-field predictions; see theory.hpp.
#include "train/theory.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "base/errors.hpp"
#include "train/gaussian_quadrature.hpp"

namespace gradflow {
namespace {

double mean_square(const Eigen::Ref<const MatD>& m) {
  return m.size() ? m.squaredNorm() / double(m.size()) : 0.0;
}

// Mean over pairs of different examples (columns) of x_i . x_j / rows.
double mean_pair_product(const MatD& x) {
  const double n = double(x.cols());
  if (n < 2 || x.rows() == 0) return 0.0;
  const double all = x.rowwise().sum().squaredNorm(), own = x.squaredNorm();
  return (all - own) / (n * (n - 1) * double(x.rows()));
}

// The same two for inputs held in float32 (file data of float32 runs), summed in double.
double mean_square_f32(const Mat<float>& m) {
  return m.size() ? squared_norm(m.data(), std::size_t(m.size())) / double(m.size()) : 0.0;
}
double mean_pair_product_f32(const Mat<float>& x) {
  const double n = double(x.cols());
  if (n < 2 || x.rows() == 0) return 0.0;
  const double all = x.cast<double>().rowwise().sum().squaredNorm();
  return (all - squared_norm(x.data(), std::size_t(x.size()))) / (n * (n - 1) * double(x.rows()));
}

bool same_activation(const Layer& a, const Layer& b) {
  return a.activation.kind == b.activation.kind && a.activation.param == b.activation.param;
}

}  // namespace

BiasMoments bias_moments(const MatD& b) {
  const VecD v = b.col(0);
  const double mean = v.size() ? v.mean() : 0.0;
  return {mean, std::max(0.0, mean_square(v) - mean * mean)};
}

bool conv_flow_stack(const NetworkLayout& layout) {
  const std::vector<Layer>& ls = layout.layers;
  std::size_t i = 0;
  auto pair_of = [&](LayerKind kind) {
    return i + 1 < ls.size() && ls[i].kind == kind && ls[i + 1].kind == LayerKind::activation &&
           same_activation(ls[i + 1], ls[1]);
  };
  if (!pair_of(LayerKind::conv2d)) return false;
  while (pair_of(LayerKind::conv2d)) i += 2;
  if (i >= ls.size() || ls[i].kind != LayerKind::flatten) return false;
  ++i;
  while (pair_of(LayerKind::dense)) i += 2;
  return i + 1 == ls.size() && ls[i].kind == LayerKind::dense && ls[i].output;
}

bool has_flow_prediction(const NetworkLayout& layout) {
  return layout.plain_mlp || conv_flow_stack(layout);
}

FlowInputs flow_inputs(const Config& config, const NetworkLayout& layout, const Parameters& start,
                       const Examples& train) {
  GF_ASSERT(layout.plain_mlp);
  // A plain MLP's tensors alternate W_l, b_l (network.hpp builds them in forward order).
  std::vector<const MatD*> weights, biases;
  for (std::size_t t = 0; t < layout.tensors.size(); ++t)
    (layout.tensors[t].main ? weights : biases).push_back(&start.tensors[t]);
  FlowInputs in;
  if (layout.layers.size() > 1) in.activation = layout.layers[1].activation;
  in.inputs = train.features();
  in.q_input = train.x32.size() ? mean_square_f32(train.x32) : mean_square(train.x);
  in.k_input = train.x32.size() ? mean_pair_product_f32(train.x32) : mean_pair_product(train.x);
  in.batch = config.train.batch_size;
  in.mse = config.train.loss == Loss::mse;
  if (in.mse && train.y.size()) {
    in.q_target = mean_square(train.y);
    in.k_target = mean_pair_product(train.y);
  } else if (in.mse && !train.labels.empty()) {  // one-hot targets over `outputs` classes
    const long classes = weights.back()->rows();
    std::vector<double> share(std::size_t(classes), 0.0);
    for (int label : train.labels) share[std::size_t(label)] += 1.0 / double(train.labels.size());
    in.q_target = 1.0 / double(classes);
    for (double p : share) in.k_target += p * p / double(classes);  // P(same label) / classes
  }
  const std::size_t layers = weights.size();
  for (std::size_t l = 0; l < layers; ++l) {
    const MatD& w = *weights[l];
    in.sigma_w2.push_back(double(w.cols()) * mean_square(w));
    if (l + 1 == layers) break;
    const BiasMoments b = bias_moments(*biases[l]);
    in.bias_mean.push_back(b.mean);
    in.bias_var.push_back(b.var);
    in.widths.push_back(w.rows());
  }
  return in;
}

FlowPrediction predict_flow(const FlowInputs& in) {
  const std::size_t hidden = in.widths.size();
  GF_ASSERT(in.sigma_w2.size() == hidden + 1 && in.bias_mean.size() == hidden &&
            in.bias_var.size() == hidden);
  const ActivationSpec& act = in.activation;
  auto value = [&](double z) { return activation_value(act, z); };
  auto slope = [&](double z) { return activation_derivative(act, z); };
  FlowPrediction p;
  // Forward, per unit of layer l: one example's z ~ N(mean bias, v); two examples' z share the
  // unit's bias and weights, so they covary by c = sigma_w^2 E[a_i a_j] + bias variance.
  double a2 = in.q_input, ac = in.k_input;  // previous layer's E[a^2] and E[a_i a_j]
  std::vector<double> layer_a2, layer_ac, chi_pair;
  for (std::size_t l = 0; l < hidden; ++l) {
    const double mean = in.bias_mean[l];
    const double v = in.sigma_w2[l] * a2 + in.bias_var[l];
    const double c = in.sigma_w2[l] * ac + in.bias_var[l];
    const double s = std::sqrt(v);
    const double rho = v > 0 ? c / v : 1.0;
    p.q.push_back(v + mean * mean);
    p.k.push_back(c + mean * mean);
    a2 = normal_expectation([&](double x) { return value(x) * value(x); }, mean, s);
    ac = normal_pair_expectation(value, value, mean, s, rho);
    layer_a2.push_back(a2);
    layer_ac.push_back(ac);
    p.mean_over_std.push_back(s > 0 ? mean / s : 0.0);
    const double w2 = in.sigma_w2[l + 1];
    p.chi.push_back(w2 * normal_expectation([&](double x) { return slope(x) * slope(x); }, mean, s));
    chi_pair.push_back(w2 * normal_pair_expectation(slope, slope, mean, s, rho));
  }
  // Backward: per-example ||delta_l||^2 = chi_l ||delta_{l+1}||^2 (independent of widths), and
  // the same for the product of two examples' deltas with the pair factor.
  p.delta_log10.assign(hidden + 1, 0.0);
  std::vector<double> delta2(hidden + 1), delta_pair(hidden + 1);
  const double q_out = in.sigma_w2[hidden] * a2, k_out = in.sigma_w2[hidden] * ac;
  delta2[hidden] = in.mse ? q_out + in.q_target : 1.0;
  delta_pair[hidden] = in.mse ? k_out + in.k_target : 0.0;
  for (std::size_t l = hidden; l-- > 0;) {
    delta2[l] = p.chi[l] * delta2[l + 1];
    delta_pair[l] = chi_pair[l] * delta_pair[l + 1];
    p.delta_log10[l] = p.delta_log10[l + 1] + 0.5 * std::log10(p.chi[l]);
  }
  // A batch's dW_l = (1/B) sum_i delta_i a_i^T, so B^2 ||dW_l||^2 = sum_ij (delta_i . delta_j)
  // (a_i . a_j): B diagonal terms and B (B - 1) cross terms; a is the layer's input.
  auto batch_grad2 = [&](std::size_t l) {
    const double units = l == 0 ? double(in.inputs) : double(in.widths[l - 1]);
    const double own = units * (l == 0 ? in.q_input : layer_a2[l - 1]);
    const double pair = units * (l == 0 ? in.k_input : layer_ac[l - 1]);
    return delta2[l] * own + double(in.batch - 1) * delta_pair[l] * pair;
  };
  const double out = batch_grad2(hidden);
  for (std::size_t l = 0; l <= hidden; ++l)
    p.grad_w_log10.push_back(0.5 * std::log10(batch_grad2(l) / out));
  return p;
}

FlowPrediction predict_flow(const ActivationSpec& activation, const std::vector<double>& sigma_w2,
                            double sigma_b2, double q_input, const std::vector<long>& widths,
                            long inputs) {
  FlowInputs in;
  in.activation = activation;
  in.sigma_w2 = sigma_w2;
  in.bias_mean.assign(widths.size(), 0.0);
  in.bias_var.assign(widths.size(), sigma_b2);
  in.q_input = q_input;
  in.widths = widths;
  in.inputs = inputs;
  return predict_flow(in);
}

std::vector<std::string> theory_caveats(const Config& config, const NetworkLayout& layout,
                                        const FlowPrediction& prediction) {
  std::vector<std::string> out;
  if (!has_flow_prediction(layout)) {
    // The mean-field maps here are for dense or conv + activation stacks. Residual and
    // batch-norm facts are tested (tests/test_layer_theory.cpp, docs/theory.md) but not
    // predicted per run. Named: the kinds outside those stacks, else the stack's kinds.
    std::string kinds;
    auto name = [&](LayerKind kind, bool outside_only) {
      const bool inside = kind == LayerKind::dense || kind == LayerKind::activation ||
                          kind == LayerKind::conv2d || kind == LayerKind::flatten;
      if (outside_only && inside) return;
      const std::string n(layer_kind_name(kind));
      if (kinds.find(n) == std::string::npos) kinds += (kinds.empty() ? "" : ", ") + n;
    };
    std::vector<const Layer*> todo;
    for (const Layer& l : layout.layers) todo.push_back(&l);
    for (std::size_t i = 0; i < todo.size(); ++i) {
      name(todo[i]->kind, true);
      for (const Layer& b : todo[i]->body) todo.push_back(&b);
    }
    if (kinds.empty())
      for (const Layer& l : layout.layers)
        if (l.kind == LayerKind::conv2d) name(l.kind, false);
    out.push_back("no prediction for " + (kinds.empty() ? std::string("this stack") : kinds) +
                  " (the mean-field prediction is for plain dense or conv2d + activation "
                  "stacks with one activation)");
    return out;
  }
  if (!layout.plain_mlp) {
    out.push_back("conv2d: delta only, no weight-gradient prediction (a kernel's gradient sums "
                  "over positions, whose correlations the per-unit maps do not track)");
    long fewest = 0;
    for (const Layer& l : layout.layers) {
      if (l.kind != LayerKind::conv2d) continue;
      fewest = fewest ? std::min(fewest, l.out_shape.c) : l.out_shape.c;
    }
    if (fewest < 64)
      out.push_back("finite width: the narrowest conv layer has " + std::to_string(fewest) +
                    (fewest == 1 ? " channel" : " channels") + " (each kernel's C_out x C_in k^2 weights serve every position, so "
                    "per-run norms scatter as for a dense layer of that width)");
  }
  // A constant bias far from the kink relative to the pre-activations' spread (relu at bias
  // -0.5: the spread shrinks layer by layer until a few units carry the whole signal): the
  // mean field then predicts nearly every unit on one side, and the few that are not, which
  // a finite network's fluctuations decide, carry the gradient (measured delta 0.07 where the
  // theory says 1e-5, configs/dying_relu_bias.json).
  for (std::size_t l = 0; l < prediction.mean_over_std.size(); ++l) {
    const double ratio = prediction.mean_over_std[l];
    if (std::abs(ratio) <= 1.5) continue;
    char text[220];
    std::snprintf(text, sizeof text,
                  "constant bias: from hidden layer %zu on, the pre-activations' mean is %.1f "
                  "standard deviations from the activation's kink at 0; the prediction then "
                  "rests on the few units on the other side, which finite width decides",
                  l + 1, ratio);
    out.push_back(text);
    break;
  }
  long narrowest = 0;
  double inverse_widths = 0;  // sum 1/n_l: the spread of log norms grows with it
  for (const RowInfo& r : layout.rows) {
    if (r.kind != RowKind::dense) continue;
    const long n = r.fan_out;
    narrowest = narrowest ? std::min(narrowest, n) : n;
    inverse_widths += 1.0 / double(n);
  }
  if (narrowest && narrowest < 64)
    out.push_back("finite width: narrowest hidden layer has " + std::to_string(narrowest) +
                  " units (theory is for wide layers, >= 64)");
  else if (inverse_widths > 0.25)
  {
    char sum[32];
    std::snprintf(sum, sizeof sum, "%.2f", inverse_widths);
    out.push_back(std::string("finite width: depth/width is large (sum of 1/width = ") + sum +
                  " > 0.25), so per-run norms scatter around the mean (Hanin & Nica 2019)");
  }
  if (layout.inputs < 16)
    out.push_back("input dimension " + std::to_string(layout.inputs) +
                  " < 16: first-layer pre-activations are far from Gaussian");
  if (config.train.loss == Loss::cross_entropy && layout.plain_mlp)  // conv: no grad_w one
    out.push_back("cross-entropy: the weight-gradient prediction takes output errors as "
                  "uncorrelated across examples (true for balanced labels at a uniform softmax); "
                  "delta_norm, per example, is unaffected");
  if (!config.model.init_from.empty())
    out.push_back("loaded parameters (model.init_from): theory assumes independent random "
                  "weights");
  return out;
}

void attach_prediction(const FlowPrediction& p, std::vector<LayerRecord>& layers) {
  if (p.delta_log10.empty()) return;
  GF_ASSERT(layers.size() == p.delta_log10.size());
  for (std::size_t l = 0; l < layers.size(); ++l) {
    layers[l].theory_delta_log10 = p.delta_log10[l];
    layers[l].theory_grad_w_log10 = p.grad_w_log10[l];
  }
}

void attach_prediction(const FlowPrediction& p, RunSummary& summary) {
  if (p.delta_log10.empty()) return;
  summary.theory_delta_ratio_log10 = p.delta_log10.front();
  summary.theory_grad_ratio_log10 = p.grad_w_log10.front();
}

}  // namespace gradflow
