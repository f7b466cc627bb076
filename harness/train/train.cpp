// The training loop. Step k computes the loss and gradients at the parameters reached after k
// updates; step 0 is the network at init. Steps 0..steps are measured, updates 0..steps-1
// applied, so the last logged step shows the trained network.
#include "train/train.hpp"

#include <cmath>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "base/errors.hpp"
#include "nn/gemm_backend.hpp"
#include "nn/init.hpp"
#include "nn/network_init.hpp"
#include "config/network_layout.hpp"
#include "train/dead_units.hpp"
#include "train/divergence_window.hpp"
#include "train/lifecycle.hpp"
#include "nn/loss.hpp"
#include "nn/optimizer.hpp"
#include "train/probes.hpp"
#include "nn/rng.hpp"
#include "train/summary.hpp"
#include "train/theory.hpp"
#include "analysis/verdict.hpp"

namespace gradflow {
namespace {

// Mini-batches without replacement: a seeded permutation consumed in order and redrawn when
// used up (a batch may span two epochs, so every batch has the same size). With batch_size ==
// train size the order is never shuffled: plain full-batch gradient descent.
struct BatchSampler {
  std::vector<std::size_t> order;
  std::size_t cursor = 0;
  bool full_batch = false;
  Rng rng;

  void next(std::vector<std::size_t>& batch) {
    if (full_batch) return;  // batch already holds 0..n-1
    for (std::size_t& slot : batch) {
      if (cursor == order.size()) {
        shuffle(order, rng);
        cursor = 0;
      }
      slot = order[cursor++];
    }
  }
};

BatchSampler make_sampler(std::size_t train_size, std::size_t batch_size, std::uint64_t seed,
                          std::vector<std::size_t>& batch) {
  BatchSampler s;
  s.order.resize(train_size);
  for (std::size_t i = 0; i < train_size; ++i) s.order[i] = i;
  s.full_batch = batch_size == train_size;
  s.rng = make_rng(seed, "batches");
  s.cursor = train_size;  // shuffle before the first batch
  batch.assign(batch_size, 0);
  if (s.full_batch)
    for (std::size_t i = 0; i < batch_size; ++i) batch[i] = i;
  return s;
}

template <class T>
TrainResult train_typed(const Config& config, const Dataset& data, Parameters start,
                        TrainObserver& observer) {
  const TrainConfig& tc = config.train;
  const NetworkLayout layout = layout_for(config, data);
  const long num_rows = layout.num_rows();
  const bool classification = data.task == Task::classification;
  const bool cross_entropy = tc.loss == Loss::cross_entropy;

  Network<T> net = make_network<T>(layout);
  set_parameters(net, start);
  if (config.log.save_params) observer.on_parameters("init", layout, start);
  const FlowPrediction theory =
      layout.plain_mlp        ? predict_flow(flow_inputs(config, layout, start, data.train))
      : conv_flow_stack(layout) ? predict_conv_flow(layout, start, data.train)
                              : FlowPrediction{};
  // The network has its own copy now; at depth 100 x width 1024 in float64 this one is 800 MB.
  start = Parameters{};
#ifdef __GLIBC__
  // glibc keeps freed heap pages for reuse; hand a large copy back to the system (peak RSS of
  // a depth-100 width-1024 float64 run: 1.34x -> 1.03x of its budget, benchmarks/peak_rss.sh).
  if (layout.parameter_count * sizeof(double) >= (std::size_t(64) << 20)) malloc_trim(0);
#endif

  // Everything the loop touches is allocated here, once.
  const long batch_size = tc.batch_size;
  Workspace<T> ws = make_workspace<T>(layout, batch_size, Pass::train);
  OptimizerState<T> opt = make_optimizer_state<T>(tc, layout);
  ProbeSet<T> probe = make_probe_set<T>(layout, data.probe, data.outputs);
  Mat<T> cast_x;  // empty when the data set holds the inputs in T already (no copy)
  const Mat<T>& train_x = inputs_as<T>(data.train, cast_x);
  Mat<T> train_y;  // MSE targets: regression values, or one-hot labels
  if (!cross_entropy) {
    if (classification) {
      train_y = Mat<T>::Zero(data.outputs, data.train.size());
      for (long j = 0; j < data.train.size(); ++j)
        train_y(data.train.labels[std::size_t(j)], j) = T(1);
    } else {
      train_y = data.train.y.cast<T>();
    }
  }
  Mat<T> batch_y(cross_entropy ? 0 : data.outputs, batch_size);
  std::vector<int> batch_labels(std::size_t(classification ? batch_size : 0));
  std::vector<std::size_t> batch;
  BatchSampler sampler = make_sampler(std::size_t(data.train.size()), std::size_t(batch_size),
                                      config.seed, batch);

  std::vector<LayerRecord> layers(static_cast<std::size_t>(num_rows));
  std::vector<LayerRecord> init_layers;
  const std::vector<long> activation_units = activation_widths(layout);
  UnitStates unit_states = make_unit_states(activation_units);
  LifecycleTracker lifecycle = make_lifecycle_tracker(activation_units);
  StepSquares squares = make_step_squares(layout);
  UpdateNorms update_norms{std::vector<double>(std::size_t(num_rows), kNaN),
                           std::vector<double>(std::size_t(num_rows), kNaN)};
  std::vector<double> prev_weight_norms(std::size_t(num_rows), kNaN);
  bool have_update_norms = false;  // the last update measured itself (and the weights it wrote)
  describe_rows(layout, layers);

  DivergenceWindow window = make_divergence_window(config.log.divergence_window, layers);
  DeadUnitTracker<T> dead_units = make_dead_unit_tracker<T>(layout, config.log.dead_window);

  TrainResult result;
  RunSummary& summary = result.summary;
  summary.parameters = long(layout.parameter_count);
  attach_prediction(theory, summary);
  summary.theory_caveats = theory_caveats(config, layout, theory);
  StepRecord last_step;
  double max_grad_norm = 0;

  for (long k = 0; k <= tc.steps; ++k) {
    sampler.next(batch);
    for (long j = 0; j < batch_size; ++j) {
      const std::size_t src = batch[std::size_t(j)];
      ws.input.col(j) = train_x.col(Eigen::Index(src));
      if (!cross_entropy) batch_y.col(j) = train_y.col(Eigen::Index(src));
      if (classification) batch_labels[std::size_t(j)] = data.train.labels[src];
    }
    dead_units.step = k;
    network_forward(net, ws, &dead_units);
    const Mat<T>& out = logits(layout, ws);
    Mat<T>& dout = dlogits(layout, ws);
    const LossValue lv = cross_entropy ? softmax_cross_entropy<T>(out, batch_labels, &dout)
                                       : mean_squared_error<T>(out, batch_y, &dout);
    const bool log_planned = k % config.log.every == 0 || k == tc.steps;
    network_backward(net, ws, log_planned ? squares.delta.data() : nullptr);
    const double grad_norm = gradient_squares(net, squares);
    // Every step, not only logged ones: a blow-up between two logged steps is an explosion.
    if (std::isfinite(grad_norm)) max_grad_norm = std::max(max_grad_norm, grad_norm);

    const bool diverged = !std::isfinite(lv.loss) || !std::isfinite(grad_norm);
    const bool log_now = log_planned || diverged;
    if (!log_now)
      remember_step(window, {k, learning_rate(tc, k), lv.loss, kNaN, kNaN, kNaN, grad_norm,
                             tc.clip_norm > 0 && grad_norm > tc.clip_norm},
                    net, squares);
    if (log_now) {
      if (diverged) log_held_steps(window, observer);  // the blow-up, then the NaN step
      forget_steps(window);
      StepRecord step;
      step.step = k;
      step.lr = learning_rate(tc, k);
      step.loss = lv.loss;
      if (classification && std::isfinite(lv.loss)) {
        const long correct =
            cross_entropy ? lv.correct : count_correct<T>(out, batch_labels);
        step.accuracy = double(correct) / double(batch_size);
      }
      step.grad_norm = grad_norm;
      step.clipped = tc.clip_norm > 0 && grad_norm > tc.clip_norm;
      for (LayerRecord& r : layers) r.step = k;
      record_dead_units(dead_units, layers);
      if (!log_planned) delta_squares(layout, ws, squares);
      measure_gradients(net, ws, squares, have_update_norms ? &update_norms.weight_after : nullptr,
                        layers);
      for (std::size_t l = 0; l < layers.size(); ++l)
        layers[l].update_ratio =
            have_update_norms ? update_norms.update[l] / prev_weight_norms[l] : kNaN;
      const long probe_every = config.log.probe_every;
      const bool probe_now = probe_every == 0 || k % probe_every == 0 || k == tc.steps ||
                             diverged;
      if (probe_now) {
        const ProbeOutcome po =
            measure_probe(net, data.task, cross_entropy, probe, layers, &unit_states);
        if (!diverged) observe_units(lifecycle, unit_states, k);
        step.probe_loss = po.loss;
        step.probe_accuracy = po.accuracy;
      } else {
        for (LayerRecord& r : layers) clear_probe_fields(r);
      }
      if (k == 0) attach_prediction(theory, layers);
      observer.on_log(step, layers);
      if (k == 0) {
        init_layers = layers;
        summary.grad_norm_init = grad_norm;
        for (LayerRecord& r : layers)  // the prediction is for init only
          r.theory_delta_log10 = r.theory_grad_w_log10 = kNaN;
      }
      last_step = step;
    }
    if (diverged) {
      summary.status = RunStatus::diverged;
      summary.diverged_step = k;
      summary.diverged_reason = !net.params.allFinite() ? "weights"
                                : !std::isfinite(lv.loss) ? "loss"
                                                          : "gradient";
      break;
    }
    if (k == tc.steps) break;
    if (!observer.on_progress(k, tc.steps, lv.loss)) {
      result.interrupted = true;
      return result;
    }

    const double lr = learning_rate(tc, k);
    const double scale =
        tc.clip_norm > 0 && grad_norm > tc.clip_norm ? tc.clip_norm / grad_norm : 1.0;
    const long next = k + 1;
    const bool measure_update = next % config.log.every == 0 || next == tc.steps;
    // The weights have not changed since this step's measure_gradients: reuse its norms.
    if (measure_update)
      for (long l = 0; l < num_rows; ++l) {
        const int t = layout.rows[std::size_t(l)].main_tensor;
        prev_weight_norms[std::size_t(l)] =
            t < 0 ? kNaN
            : log_now
                ? layers[std::size_t(l)].weight_norm
                : norm_wide(net.params.data() + layout.tensors[std::size_t(t)].offset,
                            layout.tensors[std::size_t(t)].size());
      }
    optimizer_step(tc, lr, scale, net, opt, measure_update ? &update_norms : nullptr);
    have_update_norms = measure_update;
    summary.steps_done = next;
  }

  summary.final_loss = last_step.loss;
  summary.final_accuracy = last_step.accuracy;
  summary.final_probe_loss = last_step.probe_loss;
  summary.final_probe_accuracy = last_step.probe_accuracy;
  summary.max_grad_norm = max_grad_norm;
  fill_flow_indicators(summary, init_layers, layers);
  result.lifecycle = lifecycle_records(lifecycle);
  const std::vector<int> rows_of = activation_rows(layout);
  for (std::size_t i = 0; i < result.lifecycle.size(); ++i)  // numbered like layers.csv
    if (rows_of[i] >= 0) result.lifecycle[i].layer = rows_of[i] + 1;
  fill_lifecycle_indicators(summary, result.lifecycle);
  judge_summary(summary, config.verdict);
  if (config.log.save_params && summary.status == RunStatus::completed)
    observer.on_parameters("final", layout, get_parameters(net));
  return result;
}

}  // namespace

NetworkLayout layout_for(const Config& config, const Dataset& data) {
  return network_layout(config, network_input(data.inputs, data.image_shape), data.outputs);
}

Parameters initial_parameters(const Config& config, const NetworkLayout& layout) {
  Rng rng = make_rng(config.seed, "init");
  return initial_parameters(layout, config.model.weight_init_spec(), config.model.bias_init, rng);
}

TrainResult train(const Config& config, const Dataset& data, Parameters start,
                  TrainObserver& observer) {
  pin_gemm_threads();
  return config.precision == Precision::float32
             ? train_typed<float>(config, data, std::move(start), observer)
             : train_typed<double>(config, data, std::move(start), observer);
}

}  // namespace gradflow
