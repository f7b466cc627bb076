// The records of conv networks (issue 15, stage 4): per-filter dead fractions (probe pass,
// training-time tracker, lifecycle.csv), the conv rows' norms and their shape columns in
// layers.csv. Filters are forced dead or alive by hand, so every count below is exact.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "io/writers.hpp"
#include "nn/loss.hpp"
#include "nn/network.hpp"
#include "train/dead_units.hpp"
#include "train/lifecycle.hpp"
#include "train/probes.hpp"
#include "train/summary.hpp"

using namespace gradflow;

namespace {

LayerSpec conv(long channels) { return conv2d_layer(channels); }
LayerSpec only(LayerKind kind) { return layer_of(kind); }
LayerSpec relu() { return activation_layer({Activation::relu, 0.0}); }
LayerSpec pool() { return pool_layer(LayerKind::max_pool); }

// (1, 6, 6) -> conv(4) -> relu -> max_pool 2 -> conv(3) -> relu -> flatten -> dense(3).
NetworkLayout conv_layout() {
  return make_network_layout(Shape{1, 6, 6},
                             {conv(4), relu(), pool(), conv(3), relu(), only(LayerKind::flatten)},
                             3);
}

constexpr long kImages = 3;
constexpr long kHotImage = 1, kHotY = 2, kHotX = 3;  // the one positive input value

// Every input 0 except image kHotImage's pixel (kHotY, kHotX), which is 1.
MatD probe_inputs() {
  MatD x = MatD::Zero(36, kImages);
  x(kHotY * 6 + kHotX, kHotImage) = 1.0;
  return x;
}

// Conv 1 (4 filters, all weights 0 but one): filter 0 fires everywhere (b = 1); 1 and 3 are
// dead (b = -5); filter 2 reads its input's centre tap minus 0.5, so it fires at the hot pixel
// of the hot image only. Conv 2 (3 filters): 0 and 2 fire everywhere, 1 is dead. The output
// layer gets small weights so the loss has a gradient everywhere.
Network<double> forced_network(const NetworkLayout& layout) {
  Network<double> net = make_network<double>(layout);
  net.params.setZero();
  const auto w = [&](int row) { return net.tensor(std::size_t(layout.rows[std::size_t(row)].main_tensor)); };
  const auto b = [&](int row) { return net.tensor(std::size_t(layout.rows[std::size_t(row)].bias_tensor)); };
  b(0)(0, 0) = 1.0;
  b(0)(1, 0) = -5.0;
  w(0)(2, 4) = 1.0;  // column (ci, ky, kx) = ci k k + ky k + kx: the centre of channel 0
  b(0)(2, 0) = -0.5;
  b(0)(3, 0) = -5.0;
  b(1)(0, 0) = 1.0;
  b(1)(1, 0) = -5.0;
  b(1)(2, 0) = 1.0;
  MatMap<double> out = w(2);
  for (long i = 0; i < out.rows(); ++i)
    for (long j = 0; j < out.cols(); ++j) out(i, j) = 0.01 * double((i + 2 * j) % 5 - 2);
  return net;
}

Examples probe_examples() {
  Examples e;
  e.x = probe_inputs();
  e.labels = {0, 1, 2};
  return e;
}

}  // namespace

TEST_CASE("conv rows: one per conv layer, none for pools and flatten, shape columns filled",
          "[conv_records]") {
  const NetworkLayout layout = conv_layout();
  REQUIRE(layout.num_rows() == 3);
  CHECK(layout.rows[0].kind == RowKind::conv2d);
  CHECK(layout.rows[1].kind == RowKind::conv2d);
  CHECK(layout.rows[2].kind == RowKind::output);
  std::vector<LayerRecord> records(3);
  describe_rows(layout, records);
  CHECK(records[0].fan_in == 9);
  CHECK(records[0].fan_out == 4);
  CHECK(records[0].c_in == 1);
  CHECK(records[0].c_out == 4);
  CHECK(records[0].kernel == 3);
  CHECK(records[0].stride == 1);
  CHECK(records[0].height == 6);
  CHECK(records[0].width == 6);
  CHECK(records[1].fan_in == 36);
  CHECK(records[1].c_in == 4);
  CHECK(records[1].c_out == 3);
  CHECK(records[1].height == 3);  // after the 2 x 2 pool
  CHECK(records[1].width == 3);
  CHECK(std::isnan(records[2].c_in));
  CHECK(std::isnan(records[2].height));

  // layers.csv: the header names the new columns last, a conv row fills them, others say nan.
  const std::string header = csv_header(kLayerColumns, {});
  CHECK(header.find(",window_dead_units,c_in,c_out,kernel,stride,height,width\n") !=
        std::string::npos);
  std::string row0, row2;
  append_layer_row(row0, "", records[0]);
  append_layer_row(row2, "", records[2]);
  CHECK(row0.substr(0, 13) == "0,1,conv2d,9,");
  const std::string conv_tail = ",1,4,3,1,6,6\n", other_tail = ",nan,nan,nan,nan,nan,nan\n";
  CHECK(row0.substr(row0.size() - conv_tail.size()) == conv_tail);
  CHECK(row2.substr(row2.size() - other_tail.size()) == other_tail);
  CHECK(std::count(row0.begin(), row0.end(), ',') + 1 == long(kLayerColumns.size()));
}

TEST_CASE("dead filters: probe pass, lifecycle, batch tracker count channels, not values",
          "[conv_records]") {
  const NetworkLayout layout = conv_layout();
  Network<double> net = forced_network(layout);
  ProbeSet<double> probe = make_probe_set<double>(layout, probe_examples(), 3);
  std::vector<LayerRecord> records(std::size_t(layout.num_rows()));
  describe_rows(layout, records);
  const std::vector<long> widths = activation_widths(layout);
  REQUIRE(widths == std::vector<long>{4, 3});  // channels, not C H W
  UnitStates units = make_unit_states(widths);
  measure_probe(net, Task::classification, true, probe, records, &units);

  // Filters 1 and 3 dead; filter 2 fired at one position of one image: alive.
  CHECK(units.dead[0] == std::vector<std::uint8_t>{0, 1, 0, 1});
  CHECK(units.dead[1] == std::vector<std::uint8_t>{0, 1, 0});
  CHECK(records[0].dead_fraction == 2.0 / 4.0);
  CHECK(records[1].dead_fraction == 1.0 / 3.0);
  // Inactive stays per (channel, position): 2 x 36 dead positions + 35 of filter 2's 36.
  CHECK(records[0].inactive_fraction == Approx((2.0 * 36 + 35) / 144.0).epsilon(1e-15));
  CHECK(records[1].inactive_fraction == Approx(9.0 / 27.0).epsilon(1e-15));
  // Saturated: (channel, position, image) triples with relu' = 0; filter 2 fired once.
  CHECK(records[0].saturated_fraction ==
        Approx((2.0 * 36 * kImages + 36 * kImages - 1) / (144.0 * kImages)).epsilon(1e-15));
  CHECK(std::isnan(records[2].dead_fraction));

  // lifecycle.csv: one entry per channel.
  LifecycleTracker life = make_lifecycle_tracker(widths);
  observe_units(life, units, 0);
  const std::vector<LifecycleRecord> at_init = lifecycle_records(life);
  REQUIRE(at_init.size() == 2);
  CHECK(at_init[0].units == 4);
  CHECK(at_init[0].born_dead == 2);
  CHECK(at_init[1].units == 3);
  CHECK(at_init[1].born_dead == 1);
  // Filter 1 of conv 1 comes back (fires everywhere), filter 0 dies.
  MatMap<double> bias = net.tensor(std::size_t(layout.rows[0].bias_tensor));
  REQUIRE(bias.rows() == 4);
  bias(1, 0) = 1.0;
  bias(0, 0) = -5.0;
  measure_probe(net, Task::classification, true, probe, records, &units);
  observe_units(life, units, 10);
  const std::vector<LifecycleRecord> later = lifecycle_records(life);
  CHECK(later[0].died == 1);
  CHECK(later[0].first_death_step == 10);
  CHECK(later[0].revived == 1);  // filter 1: born dead, alive now
  CHECK(later[0].dead_at_end == 2);
  bias(1, 0) = -5.0;
  bias(0, 0) = 1.0;

  // The training-time tracker on a batch of the same images: per filter too.
  Workspace<double> ws = make_workspace<double>(layout, kImages, Pass::train);
  ws.input = probe_inputs();
  DeadUnitTracker<double> tracker = make_dead_unit_tracker<double>(layout, 5);
  tracker.step = 0;
  network_forward(net, ws, &tracker);
  record_dead_units(tracker, records);
  CHECK(records[0].batch_dead_fraction == 2.0 / 4.0);
  CHECK(records[0].window_dead_units == 2);
  CHECK(records[1].batch_dead_fraction == 1.0 / 3.0);
  CHECK(records[1].window_dead_units == 1);
  // Without the hot image filter 2 fires nowhere on the batch.
  ws.input.col(kHotImage).setZero();
  tracker.step = 1;
  network_forward(net, ws, &tracker);
  record_dead_units(tracker, records);
  CHECK(records[0].batch_dead_fraction == 3.0 / 4.0);
  CHECK(records[0].window_dead_units == 2);  // it fired within the window (step 0)
}

TEST_CASE("conv rows get gradient, weight and bias norms of W (C_out, C_in k k) and b",
          "[conv_records]") {
  const NetworkLayout layout = conv_layout();
  Network<double> net = forced_network(layout);
  Workspace<double> ws = make_workspace<double>(layout, kImages, Pass::train);
  ws.input = probe_inputs();
  network_forward(net, ws);
  softmax_cross_entropy<double>(logits(layout, ws), {0, 1, 2}, &dlogits(layout, ws));
  StepSquares squares = make_step_squares(layout);
  network_backward(net, ws, squares.delta.data());
  gradient_squares(net, squares);
  std::vector<LayerRecord> records(std::size_t(layout.num_rows()));
  describe_rows(layout, records);
  measure_gradients(net, ws, squares, nullptr, records);
  for (int row : {0, 1}) {
    const RowInfo& info = layout.rows[std::size_t(row)];
    const auto dw = net.dtensor(std::size_t(info.main_tensor));
    const auto db = net.dtensor(std::size_t(info.bias_tensor));
    CHECK(dw.rows() == records[std::size_t(row)].c_out);
    CHECK(dw.cols() == records[std::size_t(row)].c_in * 9);
    CHECK(records[std::size_t(row)].grad_w_norm == Approx(dw.norm()).epsilon(1e-12));
    CHECK(records[std::size_t(row)].grad_b_norm == Approx(db.norm()).epsilon(1e-12));
    CHECK(records[std::size_t(row)].weight_norm ==
          Approx(net.tensor(std::size_t(info.main_tensor)).norm()).epsilon(1e-12));
    CHECK(std::isfinite(records[std::size_t(row)].delta_norm));
  }
  CHECK(records[0].weight_norm == 1.0);  // the one centre tap
  CHECK(records[1].grad_w_norm > 0);

  // The run's flow ratios start at the first conv row, not at the first dense one.
  RunSummary summary;
  fill_flow_indicators(summary, records, records);
  const LayerRecord& out = records.back();
  INFO("grad ratio " << summary.grad_ratio_log10_init << ", delta ratio "
                     << summary.delta_ratio_log10_init);
  CHECK(out.output);
  CHECK(summary.grad_ratio_log10_init ==
        Approx(std::log10(records[0].grad_w_norm / out.grad_w_norm)).epsilon(1e-12));
  CHECK(summary.delta_ratio_log10_init ==
        Approx(std::log10(records[0].delta_norm / out.delta_norm)).epsilon(1e-12));
}
