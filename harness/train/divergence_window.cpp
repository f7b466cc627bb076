// The ring buffer of steps before a divergence; see divergence_window.hpp.
#include "train/divergence_window.hpp"

#include <algorithm>

#include "train/train.hpp"

namespace gradflow {

DivergenceWindow make_divergence_window(long capacity, const std::vector<LayerRecord>& layers) {
  DivergenceWindow w;
  w.capacity = capacity;
  w.num_layers = long(layers.size());
  w.steps.assign(std::size_t(capacity), StepRecord{});
  w.layers.reserve(std::size_t(capacity) * layers.size());
  for (long s = 0; s < capacity; ++s)
    for (const LayerRecord& r : layers) {
      LayerRecord fixed;
      fixed.layer = r.layer;
      fixed.kind = r.kind;
      fixed.output = r.output;
      fixed.fan_in = r.fan_in;
      fixed.fan_out = r.fan_out;
      w.layers.push_back(fixed);
    }
  w.scratch = std::vector<LayerRecord>(layers.size());
  return w;
}

template <class T>
void remember_step(DivergenceWindow& w, const StepRecord& step, const Network<T>& net,
                   const StepSquares& squares) {
  if (w.capacity == 0) return;
  const std::size_t slot = std::size_t(w.next);
  w.steps[slot] = step;
  for (long l = 0; l < w.num_layers; ++l) {
    LayerRecord& r = w.layers[slot * std::size_t(w.num_layers) + std::size_t(l)];
    r.step = step.step;
    const RowInfo& row = net.layout.rows[std::size_t(l)];
    auto from_squares = [&](int tensor, double sq) {
      if (tensor < 0) return kNaN;
      const ParamTensor& p = net.layout.tensors[std::size_t(tensor)];
      return norm_given_squared(net.grads.data() + p.offset, p.size(), sq);
    };
    r.grad_w_norm = from_squares(row.main_tensor, squares.grad_w[std::size_t(l)]);
    r.grad_b_norm = from_squares(row.bias_tensor, squares.grad_b[std::size_t(l)]);
  }
  w.next = (w.next + 1) % w.capacity;
  w.held = std::min(w.held + 1, w.capacity);
}

void log_held_steps(DivergenceWindow& w, TrainObserver& observer) {
  for (long i = w.held; i > 0; --i) {
    const std::size_t slot = std::size_t((w.next - i + w.capacity) % w.capacity);
    for (long l = 0; l < w.num_layers; ++l)
      w.scratch[std::size_t(l)] = w.layers[slot * std::size_t(w.num_layers) + std::size_t(l)];
    observer.on_log(w.steps[slot], w.scratch);
  }
  forget_steps(w);
}

template void remember_step<float>(DivergenceWindow&, const StepRecord&, const Network<float>&,
                                   const StepSquares&);
template void remember_step<double>(DivergenceWindow&, const StepRecord&, const Network<double>&,
                                    const StepSquares&);

}  // namespace gradflow
