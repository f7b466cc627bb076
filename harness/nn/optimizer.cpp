// Update rules. SGD with momentum follows PyTorch's formulation (v = mu v + g; Nesterov uses
// g + mu v; Sutskever et al. 2013); Adam follows Kingma & Ba 2015, Algorithm 1, in PyTorch's
// arrangement lr * m_hat / (sqrt(v_hat) + eps), so results can be checked against it.
#include "nn/optimizer.hpp"

#include <cmath>
#include <numbers>

#include "base/errors.hpp"

namespace gradflow {

template <class T>
OptimizerState<T> make_optimizer_state(const TrainConfig& train, const NetworkLayout& layout) {
  OptimizerState<T> state;
  const auto n = Eigen::Index(layout.parameter_count);
  if (train.optimizer != Optimizer::sgd) state.velocity = Vec<T>::Zero(n);
  if (train.optimizer == Optimizer::adam) state.second = Vec<T>::Zero(n);
  state.applied = Vec<T>::Zero(Eigen::Index(kNormChunk));
  return state;
}

double learning_rate(const TrainConfig& train, long step) {
  switch (train.schedule) {
    case Schedule::constant:
      return train.lr;
    case Schedule::step:
      return train.lr * std::pow(train.decay_factor, double(step / train.decay_every));
    case Schedule::cosine: {
      // Loshchilov & Hutter 2017 (SGDR), a single cycle without restarts.
      const double progress = train.steps > 0 ? double(step) / double(train.steps) : 0.0;
      return train.lr_final +
             0.5 * (train.lr - train.lr_final) * (1.0 + std::cos(std::numbers::pi * progress));
    }
  }
  GF_ASSERT(false && "unknown schedule");
}

namespace {

// Runs rule(i) (which updates element i and returns the update applied) over [0, n), and
// with `applied` stores each update there for measuring. A plain store keeps the loop
// vectorised; summing squares inside it did not (its 2 x kWideLanes sums spilled).
template <class T, class Rule>
void apply(Rule rule, std::size_t n, T* applied) {
  if (!applied) {
    for (std::size_t i = 0; i < n; ++i) rule(i);
  } else {
    for (std::size_t i = 0; i < n; ++i) applied[i] = rule(i);
  }
}

// Applies one rule to the segment [0, n) of the flat buffers (pointers already offset).
template <class T>
void update_segment(const TrainConfig& train, T lr, T scale, T* p, const T* g, T* m, T* v,
                    std::size_t n, const double adam[2], T* applied) {
  switch (train.optimizer) {
    case Optimizer::sgd:
      apply<T>([&](std::size_t i) {
        const T u = lr * scale * g[i];
        p[i] -= u;
        return u;
      }, n, applied);
      break;
    case Optimizer::momentum: {
      const T mu = T(train.momentum);
      const bool nesterov = train.nesterov;
      apply<T>([&](std::size_t i) {
        const T gi = scale * g[i];
        m[i] = mu * m[i] + gi;
        const T u = lr * (nesterov ? gi + mu * m[i] : m[i]);
        p[i] -= u;
        return u;
      }, n, applied);
      break;
    }
    case Optimizer::adam: {
      const T b1 = T(train.beta1), b2 = T(train.beta2), eps = T(train.eps);
      const T step = T(adam[0]), inv_sqrt_bc2 = T(adam[1]);
      apply<T>([&](std::size_t i) {
        const T gi = scale * g[i];
        m[i] = b1 * m[i] + (T(1) - b1) * gi;
        v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
        const T u = step * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
        p[i] -= u;
        return u;
      }, n, applied);
      break;
    }
  }
}

}  // namespace

template <class T>
void optimizer_step(const TrainConfig& train, double lr, double grad_scale, Network<T>& net,
                    OptimizerState<T>& state, UpdateNorms* norms) {
  state.t += 1;
  // Adam's bias corrections (Kingma & Ba, sec. 3): m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t),
  // passed as {lr / (1 - b1^t), 1 / sqrt(1 - b2^t)}.
  double adam[2] = {0, 0};
  if (train.optimizer == Optimizer::adam) {
    adam[0] = lr / (1.0 - std::pow(train.beta1, double(state.t)));
    adam[1] = 1.0 / std::sqrt(1.0 - std::pow(train.beta2, double(state.t)));
  }
  T* p = net.params.data();
  const T* g = net.grads.data();
  T* m = state.velocity.size() ? state.velocity.data() : nullptr;
  T* v = state.second.size() ? state.second.data() : nullptr;
  auto at = [](T* base, std::size_t offset) { return base ? base + offset : nullptr; };
  const T lr_t = T(lr), scale_t = T(grad_scale);
  if (!norms) {
    update_segment<T>(train, lr_t, scale_t, p, g, m, v, std::size_t(net.params.size()), adam,
                      nullptr);
    return;
  }
  const std::size_t rows = std::size_t(net.layout.num_rows());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  norms->update.assign(rows, nan);
  norms->weight_after.assign(rows, nan);
  T* applied = state.applied.data();
  for (const ParamTensor& t : net.layout.tensors) {
    if (!t.main) {
      update_segment<T>(train, lr_t, scale_t, p + t.offset, g + t.offset, at(m, t.offset),
                        at(v, t.offset), t.size(), adam, nullptr);
      continue;
    }
    // Chunk by chunk, so each chunk's update and new weights are measured while in cache,
    // summed exactly as squared_norm_wide() sums the whole tensor.
    ChunkedNorm update_norm;
    double weight_sq = 0;
    for_each_norm_chunk(t.size(), [&](std::size_t offset, std::size_t n) {
      const std::size_t c = t.offset + offset;
      update_segment<T>(train, lr_t, scale_t, p + c, g + c, at(m, c), at(v, c), n, adam,
                        applied);
      update_norm.add(applied, n, squared_norm_chunk(applied, n));
      weight_sq += squared_norm_chunk(p + c, n);
    });
    norms->update[std::size_t(t.row)] = update_norm.norm();  // rescaled by chunk
    norms->weight_after[std::size_t(t.row)] = norm_given_squared(p + t.offset, t.size(), weight_sq);
  }
}

#define GRADFLOW_INSTANTIATE(T)                                                            \
  template OptimizerState<T> make_optimizer_state<T>(const TrainConfig&, const NetworkLayout&); \
  template void optimizer_step<T>(const TrainConfig&, double, double, Network<T>&,        \
                                  OptimizerState<T>&, UpdateNorms*);
GRADFLOW_INSTANTIATE(float)
GRADFLOW_INSTANTIATE(double)
#undef GRADFLOW_INSTANTIATE

}  // namespace gradflow
