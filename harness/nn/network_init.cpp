// See network_init.hpp.
#include "nn/network_init.hpp"

#include "base/errors.hpp"

namespace gradflow {
namespace {

double he_slope(const Layer& l) {
  if (l.kind == LayerKind::prelu) return l.activation.param;
  if (l.kind == LayerKind::activation && l.activation.kind == Activation::leaky_relu)
    return l.activation.param;
  return 0.0;
}

bool first_activation_slope(const std::vector<Layer>& layers, double& slope) {
  for (const Layer& l : layers) {
    if (l.kind == LayerKind::activation || l.kind == LayerKind::prelu) {
      slope = he_slope(l);
      return true;
    }
    if (first_activation_slope(l.body, slope)) return true;
  }
  return false;
}

struct Initializer {
  const NetworkLayout& layout;
  WeightInitSpec weights;
  const BiasInitSpec& bias;
  Rng& rng;
  Parameters& p;
  double slope = 0.0;  // of the last activation passed

  MatD& tensor_at(std::size_t offset) {
    for (std::size_t t = 0; t < layout.tensors.size(); ++t)
      if (layout.tensors[t].offset == offset) return p.tensors[t];
    GF_ASSERT(false && "no tensor at this offset");
  }

  void draw_weights(const Layer& l, MatD& w, double leaky_slope) {
    WeightInitSpec spec = weights;
    spec.leaky_slope = leaky_slope;
    if (l.kind == LayerKind::conv2d) spec.receptive_field = l.kernel * l.kernel;
    init_weights(spec, w, rng);
  }

  // Xiao et al. 2018, "Dynamical isometry and a mean field theory of CNNs", Algorithm 2: every
  // tap zero but the centre one ((k - 1) / 2, (k - 1) / 2): under same or circular padding the
  // tap that reads the output's own position; under valid padding the output is the input
  // cropped), an orthogonal (C_out, C_in) matrix times model.init_gain. With circular
  // padding, identity activations and C_in = C_out the layer is an exact isometry.
  void draw_delta_orthogonal(const Layer& l, MatD& w, double leaky_slope) {
    const long c_in = l.in_shape.c, k = l.kernel, mid = (k - 1) / 2, centre = mid * k + mid;
    MatD q(w.rows(), c_in);
    WeightInitSpec spec = weights;
    spec.kind = WeightInit::orthogonal;
    spec.leaky_slope = leaky_slope;
    init_weights(spec, q, rng);
    w.setZero();
    for (long ci = 0; ci < c_in; ++ci) w.col(ci * k * k + centre) = q.col(ci);
  }

  void walk(const std::vector<Layer>& layers) {
    for (const Layer& l : layers) {
      switch (l.kind) {
        case LayerKind::conv2d:  // W (C_out, C_in k k): fan_in = C_in k k
        case LayerKind::dense: {
          if (l.kind == LayerKind::conv2d && weights.kind == WeightInit::delta_orthogonal)
            draw_delta_orthogonal(l, tensor_at(l.w), slope);
          else
            draw_weights(l, tensor_at(l.w), slope);
          // One bias per output unit, or per output channel of a conv (not per output value).
          MatD& b = tensor_at(l.b);
          b.setZero();
          if (!l.output) init_bias(bias, b.col(0), rng);
          break;
        }
        case LayerKind::activation:
          slope = he_slope(l);
          break;
        case LayerKind::prelu:
          tensor_at(l.w).setConstant(l.activation.param);
          slope = he_slope(l);
          break;
        case LayerKind::batch_norm:
        case LayerKind::layer_norm:
          if (l.affine) {
            tensor_at(l.w).setOnes();
            tensor_at(l.b).setZero();
          }
          break;
        case LayerKind::residual:
          walk(l.body);
          if (l.projection != kNoOffset) draw_weights(l, tensor_at(l.projection), 1.0);
          if (l.scale_kind == ResidualScale::rezero) tensor_at(l.w).setZero();
          break;
        case LayerKind::max_pool:
        case LayerKind::avg_pool:
        case LayerKind::global_avg_pool:
        case LayerKind::flatten:
          break;
      }
    }
  }
};

}  // namespace

Parameters initial_parameters(const NetworkLayout& layout, const WeightInitSpec& weights,
                              const BiasInitSpec& bias, Rng& rng) {
  Parameters p;
  for (const ParamTensor& t : layout.tensors) p.tensors.push_back(MatD::Zero(t.rows, t.cols));
  Initializer init{layout, weights, bias, rng, p};
  first_activation_slope(layout.layers, init.slope);
  init.walk(layout.layers);
  return p;
}

}  // namespace gradflow
