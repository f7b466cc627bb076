// Building a network's layout from its layer specs, its workspaces, and the forward and
// backward passes that walk the layers (each kind's arithmetic is in nn/layers/<kind>.cpp).
#include "nn/network.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "base/errors.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {

namespace {
constexpr std::array<std::string_view, kRowKindCount> kRowKindNames = {
    "dense", "output", "projection", "batch_norm", "layer_norm", "prelu", "residual", "conv2d"};
static_assert(std::size_t(RowKind::conv2d) + 1 == kRowKindCount, "add the row kind's name");
}  // namespace

std::string_view row_kind_name(RowKind k) { return kRowKindNames[std::size_t(k)]; }

namespace {

// Walks the specs in forward order, numbering layers, rows and tensors.
struct LayoutBuilder {
  NetworkLayout& layout;
  long blocks = 0;  // residual blocks in the whole network (inv_sqrt_blocks)

  std::size_t add_tensor(const char* prefix, int row, long rows, long cols, bool main) {
    ParamTensor t;
    t.name = std::string(prefix) + std::to_string(row + 1);
    t.rows = rows;
    t.cols = cols;
    t.offset = layout.parameter_count;
    t.row = row;
    t.main = main;
    layout.parameter_count += t.size();
    const int index = int(layout.tensors.size());
    RowInfo& r = layout.rows[std::size_t(row)];
    (main ? r.main_tensor : r.bias_tensor) = index;
    layout.tensors.push_back(std::move(t));
    return layout.tensors.back().offset;
  }

  int add_row(RowKind kind, long fan_in, long fan_out, int layer_id) {
    layout.rows.push_back({kind, fan_in, fan_out, -1, -1, layer_id});
    return int(layout.rows.size()) - 1;
  }

  // Builds `specs` reading activations of `shape` whose values come from row `feeding_row`
  // (-1: none). Returns the output shape; `feeding_row` is updated.
  Shape build(const std::vector<LayerSpec>& specs, Shape shape, int& feeding_row,
              std::vector<Layer>& out) {
    for (const LayerSpec& s : specs) {
      const long units = shape.size();
      Layer l;
      l.kind = s.kind;
      l.id = layout.layer_count++;
      l.in_shape = shape;
      l.out_shape = shape;  // elementwise kinds and norms keep it
      switch (s.kind) {
        case LayerKind::dense:
          GF_ASSERT(s.units > 0);
          l.out_shape = {s.units, 1, 1};
          l.row = add_row(RowKind::dense, units, s.units, l.id);
          l.w = add_tensor("W", l.row, s.units, units, true);
          l.b = add_tensor("b", l.row, s.units, 1, false);
          feeding_row = l.row;
          break;
        case LayerKind::activation:
          l.activation = s.activation;
          l.act_row = feeding_row;
          feeding_row = -1;
          break;
        case LayerKind::prelu:
          l.act_row = feeding_row;
          l.row = add_row(RowKind::prelu, units, units, l.id);
          l.w = add_tensor("slope", l.row, shape.c, 1, true);  // per unit, or per channel
          l.activation = {Activation::leaky_relu, s.prelu_init};  // the initial slope
          feeding_row = -1;
          break;
        case LayerKind::batch_norm:
        case LayerKind::layer_norm: {
          // Batch norm after a conv normalizes per channel (over batch and positions), so its
          // gamma, beta and running statistics have C entries; a dense activation's C = units.
          const bool batch = s.kind == LayerKind::batch_norm;
          const long params = batch ? shape.c : units;
          l.affine = s.affine;
          l.momentum = s.momentum;
          l.row = add_row(batch ? RowKind::batch_norm : RowKind::layer_norm, units, units, l.id);
          if (s.affine) {
            l.w = add_tensor("gamma", l.row, params, 1, true);
            l.b = add_tensor("beta", l.row, params, 1, false);
          }
          if (batch) {
            l.state = layout.state_count;
            layout.state_count += 2 * std::size_t(params);
          }
          feeding_row = l.row;
          break;
        }
        case LayerKind::residual: {
          GF_ASSERT(!s.body.empty());
          ++blocks;
          int body_row = feeding_row;
          l.out_shape = build(s.body, shape, body_row, l.body);
          l.scale_kind = s.scale;
          l.scale = s.scale_value;
          if (l.out_shape.size() != units) {
            l.projection_row = add_row(RowKind::projection, units, l.out_shape.size(), l.id);
            l.projection = add_tensor("P", l.projection_row, l.out_shape.size(), units, true);
          }
          l.row = add_row(RowKind::residual, units, l.out_shape.size(), l.id);
          if (s.scale == ResidualScale::rezero) l.w = add_tensor("alpha", l.row, 1, 1, true);
          feeding_row = l.row;
          break;
        }
        case LayerKind::conv2d: {
          GF_ASSERT(s.channels > 0 && s.kernel > 0 && s.stride > 0);
          l.kernel = s.kernel;
          l.stride = s.stride;
          l.padding = s.padding;
          l.pad = s.padding == Padding::valid ? 0 : (s.kernel - 1) / 2;
          l.out_shape = {s.channels, conv_output_size(shape.h, s.kernel, s.stride, s.padding),
                         conv_output_size(shape.w, s.kernel, s.stride, s.padding)};
          GF_ASSERT(l.out_shape.h > 0 && l.out_shape.w > 0);
          const long fan_in = shape.c * s.kernel * s.kernel;
          l.row = add_row(RowKind::conv2d, fan_in, s.channels, l.id);
          l.w = add_tensor("W", l.row, s.channels, fan_in, true);
          l.b = add_tensor("b", l.row, s.channels, 1, false);
          feeding_row = l.row;
          break;
        }
        case LayerKind::max_pool:
        case LayerKind::avg_pool:
          GF_ASSERT(s.kernel > 0 && s.stride > 0);
          l.kernel = s.kernel;
          l.stride = s.stride;
          l.out_shape = {shape.c, conv_output_size(shape.h, s.kernel, s.stride, Padding::valid),
                         conv_output_size(shape.w, s.kernel, s.stride, Padding::valid)};
          GF_ASSERT(l.out_shape.h > 0 && l.out_shape.w > 0);
          // Statistics of an activation after a pool still describe the row before it.
          break;
        case LayerKind::global_avg_pool:
          l.out_shape = {shape.c, 1, 1};
          break;
        case LayerKind::flatten:
          l.out_shape = {units, 1, 1};
          break;
      }
      l.in_units = units;
      l.out_units = l.out_shape.size();
      layout.max_width = std::max(layout.max_width, l.out_units);
      shape = l.out_shape;
      out.push_back(std::move(l));
    }
    return shape;
  }
};

void resolve_scales(std::vector<Layer>& layers, long blocks) {
  for (Layer& l : layers) {
    if (l.kind != LayerKind::residual) continue;
    if (l.scale_kind == ResidualScale::inv_sqrt_blocks) l.scale = 1.0 / std::sqrt(double(blocks));
    resolve_scales(l.body, blocks);
  }
}

bool is_plain_mlp(const std::vector<LayerSpec>& hidden) {
  if (hidden.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < hidden.size(); ++i) {
    if (hidden[i].kind != (i % 2 == 0 ? LayerKind::dense : LayerKind::activation)) return false;
    const ActivationSpec& a = hidden[i].activation;
    if (i % 2 == 1 && (a.kind != hidden[1].activation.kind || a.param != hidden[1].activation.param))
      return false;  // one activation throughout, as the mean-field maps assume
  }
  return true;
}

}  // namespace

long conv_output_size(long size, long kernel, long stride, Padding padding) {
  if (padding == Padding::valid) return size < kernel ? 0 : (size - kernel) / stride + 1;
  return (size - 1) / stride + 1;  // padded by k - 1 in all
}

NetworkLayout make_network_layout(long inputs, const std::vector<LayerSpec>& hidden,
                                  long outputs) {
  return make_network_layout(Shape{inputs, 1, 1}, hidden, outputs);
}

NetworkLayout make_network_layout(Shape input, const std::vector<LayerSpec>& hidden,
                                  long outputs) {
  const long inputs = input.size();
  NetworkLayout layout;
  layout.inputs = inputs;
  layout.input_shape = input;
  layout.outputs = outputs;
  layout.max_width = inputs;
  layout.specs = hidden;
  layout.plain_mlp = is_plain_mlp(hidden);
  LayoutBuilder builder{layout};
  int feeding_row = -1;
  std::vector<LayerSpec> all = hidden;
  LayerSpec out;
  out.kind = LayerKind::dense;
  out.units = outputs;
  all.push_back(out);
  builder.build(all, input, feeding_row, layout.layers);
  Layer& last = layout.layers.back();
  last.output = true;
  layout.rows[std::size_t(last.row)].kind = RowKind::output;
  resolve_scales(layout.layers, builder.blocks);
  return layout;
}

NetworkLayout make_mlp_layout(long inputs, const std::vector<long>& widths, long outputs,
                              const ActivationSpec& activation) {
  std::vector<LayerSpec> hidden;
  for (long w : widths) {
    LayerSpec d;
    d.kind = LayerKind::dense;
    d.units = w;
    LayerSpec a;
    a.kind = LayerKind::activation;
    a.activation = activation;
    hidden.push_back(d);
    hidden.push_back(a);
  }
  return make_network_layout(inputs, hidden, outputs);
}

template <class T>
Network<T> make_network(const NetworkLayout& layout) {
  Network<T> net;
  net.layout = layout;
  net.params = Vec<T>::Zero(Eigen::Index(layout.parameter_count));
  // Not zeroed: backward writes every gradient before anything reads one, and untouched
  // pages cost no memory until then (the caller may still hold a copy of the parameters).
  net.grads = Vec<T>(Eigen::Index(layout.parameter_count));
  net.state = Vec<T>::Zero(Eigen::Index(layout.state_count));
  // Running statistics start as PyTorch's: mean 0, variance 1.
  std::vector<const Layer*> stack;
  for (const Layer& l : layout.layers) stack.push_back(&l);
  while (!stack.empty()) {
    const Layer* l = stack.back();
    stack.pop_back();
    for (const Layer& b : l->body) stack.push_back(&b);
    if (l->state != kNoOffset)
      net.state.segment(Eigen::Index(l->state + std::size_t(l->out_shape.c)), l->out_shape.c)
          .setOnes();
  }
  return net;
}

template <class T>
void set_parameters(Network<T>& net, const Parameters& p) {
  GF_ASSERT(p.tensors.size() == net.layout.tensors.size());
  for (std::size_t t = 0; t < p.tensors.size(); ++t) net.tensor(t) = p.tensors[t].cast<T>();
}

template <class T>
Parameters get_parameters(const Network<T>& net) {
  Parameters p;
  for (std::size_t t = 0; t < net.layout.tensors.size(); ++t)
    p.tensors.push_back(net.tensor(t).template cast<double>());
  return p;
}

namespace {

// Assigns buffers to every layer. Train: each output its own, an elementwise kind's gradient
// shared with its input's. Eval: outputs at nesting level d alternate between two buffers per
// (level, width); scratch (caches, statistics) is shared by every layer of the same shape.
template <class T>
struct WorkspaceBuilder {
  Workspace<T>& ws;
  long batch;
  std::map<std::tuple<int, long, long, int>, int> shared;  // (level, rows, cols, slot) -> buffer

  int fresh(long rows, long cols) {
    ws.storage.push_back(Mat<T>::Zero(rows, cols));
    return int(ws.storage.size()) - 1;
  }
  int reuse(int level, long rows, long cols, int slot) {
    auto [it, added] = shared.try_emplace({level, rows, cols, slot}, -1);
    if (added) it->second = fresh(rows, cols);
    return it->second;
  }
  int scratch(long rows, long cols, int slot) {
    return ws.pass == Pass::train ? fresh(rows, cols) : reuse(-1, rows, cols, slot);
  }

  // A training pass keeps each output for backward, except a fixed activation's input when
  // only that activation reads it: a dense, conv or norm output (their backward reads their
  // input, x_hat and 1/sigma, never their output). The activation then writes a over z, which saves
  // one (units, batch) buffer per layer and its trip through the cache (docs/speed.md); the
  // block input a residual's skip reads, and prelu's input (its slope gradient needs z), keep
  // theirs.
  int fresh_or_in_place(const std::vector<Layer>& layers, int index) {
    const Layer& l = layers[std::size_t(index)];
    if (l.kind == LayerKind::activation && index > 0) {
      const Layer& in = layers[std::size_t(index - 1)];
      if (in.kind == LayerKind::dense || in.kind == LayerKind::conv2d ||
          in.kind == LayerKind::batch_norm || in.kind == LayerKind::layer_norm)
        return ws.at[std::size_t(in.id)].out;
    }
    return fresh(l.out_units, batch);
  }

  // input_grad: the buffer holding dL/d(this sequence's input), -1 if none.
  void build(const std::vector<Layer>& layers, int level, int input_grad) {
    int index = 0;
    for (const Layer& l : layers) {
      LayerBuffers& b = ws.at[std::size_t(l.id)];
      const long units = l.out_units;
      const bool train = ws.pass == Pass::train;
      b.out = train ? fresh_or_in_place(layers, index) : reuse(level, units, batch, index % 2);
      switch (l.kind) {
        case LayerKind::activation:
        case LayerKind::prelu:
          b.cache = scratch(units, batch, 0);
          break;
        case LayerKind::batch_norm:
          b.cache = scratch(units, batch, 0);
          b.stat = scratch(units, l.out_shape.positions() > 1 ? 4 : 3, 1);
          break;
        case LayerKind::conv2d: {
          // A single-chunk layer's patches live from forward to backward; backward's scratch
          // and flipped kernel only inside one call, so layers of the same shape share them.
          const long rows = l.out_shape.positions() * conv2d_chunk(l, batch, sizeof(T));
          const long k = l.in_shape.c * l.kernel * l.kernel;
          b.cache = scratch(rows, k, 0);
          const ConvScratch s = conv2d_scratch(l);
          b.stat = reuse(-2, s.elements(), 1, 0);  // forward's too (conv2d_direct)
          if (train) b.flipped = reuse(-3, s.flipped_rows, s.flipped_cols, 0);
          if (train && conv2d_keeps_padded_input<T>(l, batch))
            b.padded = fresh(conv2d_padded_elements(l), batch);
          break;
        }
        case LayerKind::max_pool:
          b.cache = scratch(units, batch, 0);
          break;
        case LayerKind::avg_pool:
        case LayerKind::global_avg_pool:
        case LayerKind::flatten:
          break;
        case LayerKind::layer_norm:
          b.cache = scratch(units, batch, 0);
          b.stat = scratch(3, batch, 1);
          break;
        case LayerKind::residual:
          build(l.body, level + 1, input_grad);
          break;
        case LayerKind::dense:
          if (train && dense_uses_transpose<T>(l, batch))
            b.cache = reuse(-4, l.in_units, l.out_units, 0);  // W^T, inside backward only
          break;
      }
      if (train) {
        const bool in_place = l.kind == LayerKind::activation || l.kind == LayerKind::prelu;
        b.dout = in_place && input_grad >= 0 ? input_grad : fresh(units, batch);
        input_grad = b.dout;
      }
      ++index;
    }
  }
};

}  // namespace

template <class T>
Workspace<T> make_workspace(const NetworkLayout& layout, long batch, Pass pass,
                            bool input_gradient) {
  Workspace<T> ws;
  ws.pass = pass;
  ws.input = Mat<T>::Zero(layout.inputs, batch);
  if (input_gradient) ws.dinput = Mat<T>::Zero(layout.inputs, batch);
  ws.at.assign(std::size_t(layout.layer_count), LayerBuffers{});
  // Elementwise kinds right after the input share its gradient only when it is computed.
  WorkspaceBuilder<T> builder{ws, batch, {}};
  builder.build(layout.layers, 0, -1);
  return ws;
}

namespace {

template <class T>
struct Pass_ {
  Network<T>& net;
  Workspace<T>& ws;
  LayerObserver<T>* observer;
  double* delta_squares;

  const Mat<T>& forward(const std::vector<Layer>& layers, const Mat<T>& input) {
    const Mat<T>* x = &input;
    T* params = net.params.data();
    for (const Layer& l : layers) {
      Mat<T>& out = ws.out(l);
      switch (l.kind) {
        case LayerKind::dense:
          dense_forward<T>(l, params, *x, out);
          break;
        case LayerKind::activation:
          activation_forward<T>(l, *x, out, ws.cache(l));
          break;
        case LayerKind::prelu:
          prelu_forward<T>(l, params, *x, out, ws.cache(l));
          break;
        case LayerKind::batch_norm:
          batch_norm_forward<T>(l, params, net.state.data(), ws.pass, *x, out, ws.cache(l),
                                ws.stat(l));
          break;
        case LayerKind::layer_norm:
          layer_norm_forward<T>(l, params, *x, out, ws.cache(l), ws.stat(l));
          break;
        case LayerKind::residual: {
          const Mat<T>& branch = forward(l.body, *x);
          residual_forward<T>(l, params, *x, branch, out);
          break;
        }
        case LayerKind::conv2d:
          conv2d_forward<T>(l, params, *x, out, ws.cache(l), ws.stat(l), ws.padded(l));
          break;
        case LayerKind::max_pool:
          max_pool_forward<T>(l, *x, out, ws.cache(l));
          break;
        case LayerKind::avg_pool:
          avg_pool_forward<T>(l, *x, out);
          break;
        case LayerKind::global_avg_pool:
          global_avg_pool_forward<T>(l, *x, out);
          break;
        case LayerKind::flatten:
          flatten_forward<T>(*x, out);
          break;
      }
      if (observer) observer->after_forward(l, *x, ws);
      x = &out;
    }
    return *x;
  }

  // din: dL/d(input of `layers`), nullptr when not needed.
  void backward(const std::vector<Layer>& layers, const Mat<T>& input, Mat<T>* din) {
    T* params = net.params.data();
    T* grads = net.grads.data();
    for (std::size_t i = layers.size(); i-- > 0;) {
      const Layer& l = layers[i];
      const Mat<T>& x = i > 0 ? ws.out(layers[i - 1]) : input;
      Mat<T>* dx = i > 0 ? &ws.dout(layers[i - 1]) : din;
      Mat<T>& dout = ws.dout(l);
      if (delta_squares && l.row >= 0)
        delta_squares[l.row] = squared_norm_wide(dout.data(), std::size_t(dout.size()));
      switch (l.kind) {
        case LayerKind::dense:
          dense_backward<T>(l, params, grads, x, dout, dx,
                            ws.at[std::size_t(l.id)].cache >= 0 ? &ws.cache(l) : nullptr);
          break;
        case LayerKind::activation:
          if (dx) activation_backward<T>(ws.cache(l), dout, *dx);
          break;
        case LayerKind::prelu: {
          // The slopes' gradient is needed even when the input's is not.
          Mat<T>& target = dx ? *dx : dout;
          prelu_backward<T>(l, grads, x, ws.cache(l), dout, target);
          break;
        }
        case LayerKind::batch_norm:
          batch_norm_backward<T>(l, params, grads, ws.cache(l), ws.stat(l), dout, dx);
          break;
        case LayerKind::layer_norm:
          layer_norm_backward<T>(l, params, grads, ws.cache(l), ws.stat(l), dout, dx);
          break;
        case LayerKind::residual: {
          if (delta_squares && l.projection_row >= 0)
            delta_squares[l.projection_row] = delta_squares[l.row];
          const Layer& last = l.body.back();
          residual_backward_branch<T>(l, params, grads, ws.out(last), dout, ws.dout(last));
          backward(l.body, x, dx);
          residual_backward_skip<T>(l, params, grads, x, dout, dx);
          break;
        }
        case LayerKind::conv2d:
          conv2d_backward<T>(l, params, grads, x, dout, dx, ws.cache(l), ws.stat(l),
                            ws.flipped(l), ws.padded(l));
          break;
        case LayerKind::max_pool:
          if (dx) max_pool_backward<T>(ws.cache(l), dout, *dx);
          break;
        case LayerKind::avg_pool:
          if (dx) avg_pool_backward<T>(l, dout, *dx);
          break;
        case LayerKind::global_avg_pool:
          if (dx) global_avg_pool_backward<T>(l, dout, *dx);
          break;
        case LayerKind::flatten:
          if (dx) flatten_backward<T>(dout, *dx);
          break;
      }
    }
  }
};

}  // namespace

template <class T>
void network_forward(Network<T>& net, Workspace<T>& ws, LayerObserver<T>* observer) {
  Pass_<T>{net, ws, observer, nullptr}.forward(net.layout.layers, ws.input);
}

template <class T>
void network_backward(Network<T>& net, Workspace<T>& ws, double* row_delta_squares) {
  GF_ASSERT(ws.pass == Pass::train);
  Pass_<T>{net, ws, nullptr, row_delta_squares}.backward(
      net.layout.layers, ws.input, ws.dinput.size() ? &ws.dinput : nullptr);
}

#define GRADFLOW_INSTANTIATE(T)                                                              \
  template struct Network<T>;                                                                \
  template Network<T> make_network<T>(const NetworkLayout&);                                 \
  template void set_parameters<T>(Network<T>&, const Parameters&);                           \
  template Parameters get_parameters<T>(const Network<T>&);                                  \
  template Workspace<T> make_workspace<T>(const NetworkLayout&, long, Pass, bool);           \
  template void network_forward<T>(Network<T>&, Workspace<T>&, LayerObserver<T>*);           \
  template void network_backward<T>(Network<T>&, Workspace<T>&, double*);
GRADFLOW_INSTANTIATE(float)
GRADFLOW_INSTANTIATE(double)
#undef GRADFLOW_INSTANTIATE

}  // namespace gradflow
