// The mean field of a vanilla CNN at init (Xiao et al. 2018), per position with channels
// averaged; see predict_conv_flow in theory.hpp.
#include <algorithm>
#include <cmath>
#include <map>

#include "base/errors.hpp"
#include "nn/layers/layers.hpp"
#include "train/gaussian_quadrature.hpp"
#include "train/theory.hpp"

namespace gradflow {
namespace {

// A weight layer as the maps see it: per tap t (ky k + kx) the weights' mean square over
// (C_out, C_in), or for a dense layer one "tap" over the whole matrix.
struct WeightMoments {
  const Layer* layer = nullptr;
  std::vector<double> tap_mean_square;
  double bias_mean = 0, bias_var = 0;
};

WeightMoments moments_of(const Layer& l, const MatD& w, const MatD& b) {
  WeightMoments m;
  m.layer = &l;
  const long taps = l.kind == LayerKind::conv2d ? l.kernel * l.kernel : 1;
  const long c_in = w.cols() / taps;
  m.tap_mean_square.assign(std::size_t(taps), 0.0);
  for (long ci = 0; ci < c_in; ++ci)
    for (long t = 0; t < taps; ++t)
      m.tap_mean_square[std::size_t(t)] += w.col(ci * taps + t).squaredNorm();
  for (double& s : m.tap_mean_square) s /= double(w.rows() * c_in);
  const BiasMoments bias = bias_moments(b);
  m.bias_mean = bias.mean;
  m.bias_var = bias.var;
  return m;
}

// Calls f(output position, tap, input position) for every tap of a conv layer that reads
// inside its input (zero padding reads nothing).
template <class F>
void for_each_tap(const Layer& l, F f) {
  const Shape& is = l.in_shape;
  const Shape& os = l.out_shape;
  const bool circular = l.padding == Padding::circular;
  for (long oy = 0; oy < os.h; ++oy)
    for (long ky = 0; ky < l.kernel; ++ky) {
      const long iy = conv_source(oy, ky, l.stride, l.pad, circular, is.h);
      if (iy < 0) continue;
      for (long ox = 0; ox < os.w; ++ox)
        for (long kx = 0; kx < l.kernel; ++kx) {
          const long ix = conv_source(ox, kx, l.stride, l.pad, circular, is.w);
          if (ix >= 0) f(oy * os.w + ox, ky * l.kernel + kx, iy * is.w + ix);
        }
    }
}

// E[g(z)] for z ~ N(mean, v), memoized on v: most positions of a layer share one variance.
struct Expectation {
  std::function<double(double)> g;
  double mean = 0;
  std::map<double, double> seen;
  double operator()(double v) {
    auto [it, added] = seen.try_emplace(v, 0.0);
    if (added) it->second = normal_expectation(g, mean, std::sqrt(std::max(v, 0.0)));
    return it->second;
  }
};

}  // namespace

FlowPrediction predict_conv_flow(const NetworkLayout& layout, const Parameters& start,
                                 const Examples& train) {
  GF_ASSERT(conv_flow_stack(layout));
  const ActivationSpec act = layout.layers[1].activation;
  std::vector<WeightMoments> weights;
  for (const Layer& l : layout.layers) {
    if (l.kind != LayerKind::conv2d && l.kind != LayerKind::dense) continue;
    const RowInfo& r = layout.rows[std::size_t(l.row)];
    weights.push_back(moments_of(l, start.tensors[std::size_t(r.main_tensor)],
                                 start.tensors[std::size_t(r.bias_tensor)]));
  }
  const std::size_t hidden = weights.size() - 1;

  // The inputs' second moment per position (channels and examples averaged).
  const Shape& in_shape = layout.layers[0].in_shape;
  const long positions = in_shape.h * in_shape.w, n = std::min(train.size(), 2048L);
  std::vector<double> a2(std::size_t(positions), 0.0);  // E[a^2] per position of a layer's input
  for (long j = 0; j < n; ++j)
    for (long c = 0; c < in_shape.c; ++c)
      for (long p = 0; p < positions; ++p) {
        const long row = c * positions + p;
        const double x = train.x32.size() ? double(train.x32(row, j)) : train.x(row, j);
        a2[std::size_t(p)] += x * x / double(n * in_shape.c);
      }

  // Forward: z at position p of weight layer l ~ N(bias mean, v_l[p]).
  FlowPrediction pred;
  std::vector<std::vector<double>> variance(hidden);
  std::vector<Expectation> slope2(hidden);
  for (std::size_t l = 0; l < hidden; ++l) {
    const WeightMoments& m = weights[l];
    const Layer& layer = *m.layer;
    std::vector<double>& v = variance[l];
    if (layer.kind == LayerKind::conv2d) {
      v.assign(std::size_t(layer.out_shape.h * layer.out_shape.w), m.bias_var);
      const double c_in = double(layer.in_shape.c);
      for_each_tap(layer, [&](long o, long t, long i) {
        v[std::size_t(o)] += c_in * m.tap_mean_square[std::size_t(t)] * a2[std::size_t(i)];
      });
    } else {  // a dense layer mixes every unit: their mean second moment
      double mean_a2 = 0;
      for (double x : a2) mean_a2 += x / double(a2.size());
      v.assign(1, double(layer.in_units) * m.tap_mean_square[0] * mean_a2 + m.bias_var);
    }
    Expectation value2{[&](double z) { return std::pow(activation_value(act, z), 2); },
                       m.bias_mean, {}};
    slope2[l] = {[act](double z) { return std::pow(activation_derivative(act, z), 2); },
                 m.bias_mean, {}};
    a2.assign(v.size(), 0.0);
    double mean_v = 0;
    for (std::size_t p = 0; p < v.size(); ++p) {
      a2[p] = value2(v[p]);
      mean_v += v[p] / double(v.size());
    }
    pred.q.push_back(mean_v + m.bias_mean * m.bias_mean);
    pred.k.push_back(std::nan(""));
    pred.mean_over_std.push_back(mean_v > 0 ? m.bias_mean / std::sqrt(mean_v) : 0.0);
  }

  // Backward, per unit: dense layer n sends each unit of its input out_n E[W_n^2] times its
  // own per-unit delta^2; a conv layer sends each input position, per tap that reads it,
  // C_out E[W_tap^2] times the delta^2 at the output position; then phi'^2 at that position.
  std::vector<double> d2(1, 1.0);  // per-unit delta^2 of the layer above (the output: 1)
  double above = double(weights[hidden].layer->out_units);  // its ||delta||^2
  std::vector<double> norm2(hidden + 1, 0.0);
  norm2[hidden] = above;
  for (std::size_t l = hidden; l-- > 0;) {
    const WeightMoments& m = weights[l + 1];
    const Layer& next = *m.layer;
    const std::vector<double>& v = variance[l];
    std::vector<double> below(v.size(), 0.0);
    if (next.kind == LayerKind::conv2d) {
      const double c_out = double(next.out_shape.c);
      for_each_tap(next, [&](long o, long t, long i) {
        below[std::size_t(i)] += c_out * m.tap_mean_square[std::size_t(t)] * d2[std::size_t(o)];
      });
    } else {
      std::fill(below.begin(), below.end(),
                double(next.out_units) * m.tap_mean_square[0] * d2[0]);
    }
    double total = 0;
    for (std::size_t p = 0; p < v.size(); ++p) {
      below[p] *= slope2[l](v[p]);
      total += below[p];
    }
    // Per-position entries hold one channel's unit; a dense layer's one entry is every unit.
    const Layer& self = *weights[l].layer;
    total *= self.kind == LayerKind::conv2d ? double(self.out_shape.c)
                                            : double(self.out_units);
    norm2[l] = total;
    pred.chi.push_back(total / above);
    above = total;
    d2 = std::move(below);
  }
  std::reverse(pred.chi.begin(), pred.chi.end());
  for (std::size_t l = 0; l <= hidden; ++l) {
    pred.delta_log10.push_back(0.5 * std::log10(norm2[l] / norm2[hidden]));
    pred.grad_w_log10.push_back(l == hidden ? 0.0 : std::nan(""));
  }
  return pred;
}

}  // namespace gradflow
