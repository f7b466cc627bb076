// See dead_units.hpp.
#include "train/dead_units.hpp"

#include <algorithm>

#include "train/lifecycle.hpp"

namespace gradflow {

template <class T>
void DeadUnitTracker<T>::after_forward(const Layer& layer, const Mat<T>&, Workspace<T>& ws) {
  if (layer.kind != LayerKind::activation && layer.kind != LayerKind::prelu) return;
  if (next == layers.size()) next = 0;  // a new forward pass
  Units& u = layers[next++];
  const Mat<T>& dphi = ws.cache(layer);
  // Column by column: vectorised, no allocation, while phi' is in cache.
  u.fired.setZero();
  for (long j = 0; j < dphi.cols(); ++j) u.fired = u.fired.cwiseMax(dphi.col(j).cwiseAbs());
  long dead = 0;
  const long tracked = long(u.last_fired.size());
  for (long i = 0; i < tracked; ++i) {
    const bool fired = u.positions == 1
                           ? u.fired[i] != T(0)
                           : u.fired.segment(i * u.positions, u.positions).maxCoeff() != T(0);
    if (fired)
      u.last_fired[std::size_t(i)] = step;
    else
      ++dead;
  }
  u.dead_on_batch = dead;
}

template <class T>
DeadUnitTracker<T> make_dead_unit_tracker(const NetworkLayout& layout, long window) {
  DeadUnitTracker<T> t;
  t.window = window;
  // Forward order, bodies of residual blocks where they run.
  std::vector<const Layer*> order;
  auto visit = [&](auto&& self, const std::vector<Layer>& layers) -> void {
    for (const Layer& l : layers) {
      if (l.kind == LayerKind::residual) self(self, l.body);
      if (l.kind == LayerKind::activation || l.kind == LayerKind::prelu) order.push_back(&l);
    }
  };
  visit(visit, layout.layers);
  for (const Layer* l : order) {
    typename DeadUnitTracker<T>::Units u;
    u.row = l->act_row;
    u.fired = Vec<T>::Zero(l->out_units);
    const long tracked = tracked_units(*l);
    u.positions = l->out_units / tracked;
    u.last_fired.assign(std::size_t(tracked), -1);
    t.layers.push_back(std::move(u));
  }
  return t;
}

template <class T>
void record_dead_units(const DeadUnitTracker<T>& t, std::vector<LayerRecord>& records) {
  // A unit counts when it fired on none of the last `window` steps (of the steps so far,
  // before `window` have run).
  const long since = t.step - t.window;  // fired at a step <= since: too long ago
  for (const auto& u : t.layers) {
    if (u.row < 0) continue;
    LayerRecord& r = records[std::size_t(u.row)];
    r.batch_dead_fraction = double(u.dead_on_batch) / double(u.last_fired.size());
    r.window_dead_units = long(std::count_if(u.last_fired.begin(), u.last_fired.end(),
                                             [&](long s) { return s < 0 || s <= since; }));
  }
}

#define GRADFLOW_INSTANTIATE(T)                                                              \
  template struct DeadUnitTracker<T>;                                                        \
  template DeadUnitTracker<T> make_dead_unit_tracker<T>(const NetworkLayout&, long);         \
  template void record_dead_units<T>(const DeadUnitTracker<T>&, std::vector<LayerRecord>&);
GRADFLOW_INSTANTIATE(float)
GRADFLOW_INSTANTIATE(double)
#undef GRADFLOW_INSTANTIATE

}  // namespace gradflow
