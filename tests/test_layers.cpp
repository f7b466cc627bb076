// The conformance test of every layer kind (dlib's test_layer): the input gradient and every
// parameter gradient of a small network holding the kind, against central finite differences
// of the batch loss in float64, and float32's gradients against float64's. Adding a kind adds
// one line to kCases.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "nn/layers/conv2d_direct.hpp"
#include "nn/layers/layers.hpp"
#include "nn/loss.hpp"
#include "nn/network.hpp"
#include "nn/rng.hpp"

using namespace gradflow;

namespace {

constexpr long kInputs = 5, kOutputs = 3, kBatch = 7;

LayerSpec dense(long units) {
  LayerSpec s;
  s.kind = LayerKind::dense;
  s.units = units;
  return s;
}
LayerSpec act(Activation a, double param = 0.0) {
  LayerSpec s;
  s.kind = LayerKind::activation;
  s.activation = {a, param};
  return s;
}
LayerSpec prelu() {
  LayerSpec s;
  s.kind = LayerKind::prelu;
  return s;
}
LayerSpec norm(LayerKind kind, bool affine) {
  LayerSpec s;
  s.kind = kind;
  s.affine = affine;
  return s;
}
LayerSpec residual(std::vector<LayerSpec> body, ResidualScale scale, double value = 1.0) {
  LayerSpec s;
  s.kind = LayerKind::residual;
  s.body = std::move(body);
  s.scale = scale;
  s.scale_value = value;
  return s;
}

LayerSpec conv(long channels, long kernel, Padding padding, long stride = 1) {
  LayerSpec s;
  s.kind = LayerKind::conv2d;
  s.channels = channels;
  s.kernel = kernel;
  s.padding = padding;
  s.stride = stride;
  return s;
}
LayerSpec pool(LayerKind kind, long kernel = 2, long stride = 2) {
  LayerSpec s;
  s.kind = kind;
  s.kernel = kernel;
  s.stride = stride;
  return s;
}
LayerSpec only(LayerKind kind) {
  LayerSpec s;
  s.kind = kind;
  return s;
}

struct Case {
  std::string name;
  std::vector<LayerSpec> hidden;
  Shape input = {kInputs, 1, 1};
};

const LayerKind kBn = LayerKind::batch_norm, kLn = LayerKind::layer_norm;
const ResidualScale kConst = ResidualScale::constant, kRezero = ResidualScale::rezero,
                    kInvSqrt = ResidualScale::inv_sqrt_blocks;

// Every kind, alone after a dense layer and in the combinations the shorthand builds.
const std::vector<Case> kCases = {
    {"dense", {dense(6)}},
    {"activation tanh", {dense(6), act(Activation::tanh)}},
    {"activation softplus", {dense(6), act(Activation::softplus)}},
    {"activation right after the input", {act(Activation::tanh), dense(6)}},
    {"prelu", {dense(6), prelu()}},
    {"prelu right after the input", {prelu(), dense(6)}},
    {"batch_norm", {dense(6), norm(kBn, true)}},
    {"batch_norm without affine", {dense(6), norm(kBn, false), act(Activation::tanh)}},
    {"batch_norm on the input", {norm(kBn, true), dense(6)}},
    {"layer_norm", {dense(6), norm(kLn, true)}},
    {"layer_norm without affine", {dense(6), norm(kLn, false), act(Activation::tanh)}},
    {"residual, scale 0.7", {dense(6), residual({act(Activation::tanh), dense(6)}, kConst, 0.7)}},
    {"residual, scale 1", {dense(6), residual({act(Activation::tanh), dense(6)}, kConst, 1.0)}},
    {"residual rezero", {dense(6), residual({act(Activation::tanh), dense(6)}, kRezero)}},
    {"residual with a projection (6 -> 4)",
     {dense(6), residual({act(Activation::tanh), dense(4)}, kConst, 1.0), act(Activation::tanh)}},
    {"residual on the input (projection 5 -> 6)", {residual({dense(6)}, kConst, 0.5)}},
    {"pre-norm residual blocks, inv_sqrt_blocks",
     {dense(6), residual({norm(kBn, true), act(Activation::tanh), dense(6)}, kInvSqrt),
      residual({norm(kLn, true), prelu(), dense(6)}, kInvSqrt), act(Activation::tanh)}},
    {"nested residual",
     {dense(6), residual({act(Activation::tanh), residual({dense(6), prelu()}, kRezero), dense(6)},
                         kConst, 0.8)}},
    // Convolutional kinds on small images (2 channels of 5 x 4, or 3 x 6 x 6).
    {"conv2d same", {conv(3, 3, Padding::same), only(LayerKind::flatten)}, {2, 5, 4}},
    {"conv2d valid", {conv(3, 3, Padding::valid), only(LayerKind::flatten)}, {2, 5, 4}},
    {"conv2d circular", {conv(3, 3, Padding::circular), only(LayerKind::flatten)}, {2, 5, 4}},
    // Even kernels pad unevenly (same: (k - 1) / 2 before, the rest after), which the
    // input-gradient convolution of stride 1 must mirror.
    {"conv2d same, kernel 4", {conv(3, 4, Padding::same), only(LayerKind::flatten)}, {2, 5, 4}},
    {"conv2d valid, kernel 2", {conv(3, 2, Padding::valid), only(LayerKind::flatten)}, {2, 5, 4}},
    {"conv2d circular, kernel 4", {conv(3, 4, Padding::circular), only(LayerKind::flatten)}, {2, 5, 4}},
    {"conv2d stride 2, same", {conv(2, 3, Padding::same, 2), only(LayerKind::flatten)}, {2, 5, 4}},
    {"conv2d stride 2, valid, kernel 2",
     {conv(2, 2, Padding::valid, 2), only(LayerKind::flatten)}, {2, 5, 4}},
    {"conv2d circular, stride 2, kernel 1", {conv(3, 1, Padding::circular, 2)}, {2, 5, 4}},
    {"max_pool 2x2", {conv(2, 3, Padding::same), pool(LayerKind::max_pool)}, {2, 5, 4}},
    {"max_pool 3x3 stride 1 on the input", {pool(LayerKind::max_pool, 3, 1)}, {2, 5, 4}},
    {"avg_pool 2x2", {pool(LayerKind::avg_pool)}, {2, 5, 4}},
    {"avg_pool 3x3 stride 1 (overlapping)", {pool(LayerKind::avg_pool, 3, 1)}, {2, 5, 4}},
    {"global_avg_pool", {conv(3, 3, Padding::same), only(LayerKind::global_avg_pool)}, {2, 5, 4}},
    {"flatten", {only(LayerKind::flatten), dense(4)}, {2, 5, 4}},
    {"conv -> batch_norm per channel -> relu",
     {conv(3, 3, Padding::same), norm(kBn, true), act(Activation::relu), only(LayerKind::flatten)},
     {2, 5, 4}},
    {"conv -> prelu per channel", {conv(3, 3, Padding::same), prelu(), only(LayerKind::flatten)},
     {2, 5, 4}},
    {"conv -> prelu -> max_pool -> conv -> prelu",
     {conv(2, 3, Padding::same), prelu(), pool(LayerKind::max_pool), conv(3, 3, Padding::valid),
      prelu()},
     {2, 6, 6}},
    {"conv -> batch_norm per channel without affine -> tanh",
     {conv(3, 3, Padding::valid), norm(kBn, false), act(Activation::tanh)}, {2, 5, 4}},
    {"small CNN ending in flatten -> dense",
     {conv(4, 3, Padding::same), act(Activation::tanh), conv(4, 3, Padding::same),
      act(Activation::relu), pool(LayerKind::max_pool), conv(3, 3, Padding::circular, 2),
      act(Activation::tanh), only(LayerKind::flatten), dense(5), act(Activation::tanh)},
     {3, 6, 6}},
};

template <class T>
struct Problem {
  Network<T> net;
  Workspace<T> ws;
  Mat<T> targets;
};

// Random parameters (not the init: rezero's alpha 0 and gamma 1 would hide mistakes), slopes
// in (0.05, 0.95), random inputs and targets; all from `seed`.
Problem<double> make_problem(const NetworkLayout& layout, std::uint64_t seed) {
  Problem<double> p{make_network<double>(layout), make_workspace<double>(layout, kBatch, Pass::train, true),
                    MatD(kOutputs, kBatch)};
  Rng rng = make_rng(seed, "conformance");
  for (const ParamTensor& t : layout.tensors)
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double u = rng.normal();
      p.net.params[Eigen::Index(t.offset + i)] =
          t.name.rfind("slope", 0) == 0 ? 0.5 + 0.45 * std::tanh(u) : 0.6 * u;
    }
  for (Eigen::Index i = 0; i < p.ws.input.size(); ++i) p.ws.input.data()[i] = rng.normal();
  for (Eigen::Index i = 0; i < p.targets.size(); ++i) p.targets.data()[i] = rng.normal();
  return p;
}

template <class T>
double loss(Problem<T>& p, bool gradient) {
  network_forward(p.net, p.ws);
  Mat<T>* d = gradient ? &dlogits(p.net.layout, p.ws) : nullptr;
  const double v = mean_squared_error<T>(logits(p.net.layout, p.ws), p.targets, d).loss;
  if (gradient) network_backward(p.net, p.ws);
  return v;
}

// Largest relative error of `analytic` against central differences of the loss in `x`.
double worst_error(Problem<double>& p, double* x, const double* analytic, std::size_t n,
                   std::string& where, const std::string& what) {
  const double h = 1e-5;  // truncation ~h^2 |f'''|/6, roundoff ~1e-16 / h: both < 1e-9
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = loss(p, false);
    x[i] = saved - h;
    const double down = loss(p, false);
    x[i] = saved;
    const double numeric = (up - down) / (2 * h);
    const double scale = std::max({std::abs(numeric), std::abs(analytic[i]), 1e-3});
    const double err = std::abs(numeric - analytic[i]) / scale;
    if (err > worst) {
      worst = err;
      where = what + "[" + std::to_string(i) + "]: numeric " + std::to_string(numeric) +
              ", analytic " + std::to_string(analytic[i]);
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("every layer kind's input and parameter gradients match finite differences",
          "[layers][gradcheck]") {
  const std::size_t index = GENERATE(range(std::size_t(0), kCases.size()));
  const Case& c = kCases[index];
  INFO("case: " << c.name);
  const NetworkLayout layout = make_network_layout(c.input, c.hidden, kOutputs);
  Problem<double> p = make_problem(layout, 11 + index);
  loss(p, true);
  const VecD grads = p.net.grads;
  const MatD dinput = p.ws.dinput;
  REQUIRE(grads.allFinite());
  REQUIRE(dinput.allFinite());
  REQUIRE(dinput.norm() > 0);  // the input gradient exists, so checking it means something

  std::string where;
  double worst = worst_error(p, p.ws.input.data(), dinput.data(), std::size_t(dinput.size()),
                             where, "input");
  for (const ParamTensor& t : layout.tensors) {
    std::string here;
    const double e = worst_error(p, p.net.params.data() + t.offset, grads.data() + t.offset,
                                 t.size(), here, t.name);
    if (e > worst) {
      worst = e;
      where = here;
    }
  }
  INFO("largest relative error " << worst << " at " << where << " (" << layout.tensors.size()
                                 << " tensors, " << layout.parameter_count << " parameters)");
  REQUIRE(worst < 1e-6);
}

TEST_CASE("every layer kind's float32 gradients agree with float64's", "[layers][gradcheck]") {
  const std::size_t index = GENERATE(range(std::size_t(0), kCases.size()));
  const Case& c = kCases[index];
  INFO("case: " << c.name);
  const NetworkLayout layout = make_network_layout(c.input, c.hidden, kOutputs);
  Problem<double> p = make_problem(layout, 11 + index);
  loss(p, true);
  Problem<float> f{make_network<float>(layout),
                   make_workspace<float>(layout, kBatch, Pass::train, true),
                   p.targets.cast<float>()};
  f.net.params = p.net.params.cast<float>();
  f.ws.input = p.ws.input.cast<float>();
  loss(f, true);
  const double err = (f.net.grads.cast<double>() - p.net.grads).norm() / p.net.grads.norm();
  const double err_input =
      (f.ws.dinput.cast<double>() - p.ws.dinput).norm() / p.ws.dinput.norm();
  INFO("relative difference: parameters " << err << ", input " << err_input);
  REQUIRE(err < 1e-5);
  REQUIRE(err_input < 1e-5);
}

TEST_CASE("a plain dense + activation stack is the plain MLP", "[layers]") {
  const NetworkLayout a = make_mlp_layout(4, {5, 6}, 3, {Activation::relu, 0});
  REQUIRE(a.plain_mlp);
  REQUIRE(a.rows.size() == 3);
  REQUIRE(a.tensors.size() == 6);
  const char* names[] = {"W1", "b1", "W2", "b2", "W3", "b3"};
  for (std::size_t t = 0; t < 6; ++t) CHECK(a.tensors[t].name == names[t]);
  const NetworkLayout b = make_network_layout(4, {dense(5), norm(kBn, true), act(Activation::relu)}, 3);
  REQUIRE_FALSE(b.plain_mlp);
  // Rows: dense, batch_norm, output; tensors named by their row.
  REQUIRE(b.rows.size() == 3);
  CHECK(b.rows[1].kind == RowKind::batch_norm);
  CHECK(b.tensors[2].name == "gamma2");
  CHECK(b.tensors[3].name == "beta2");
  CHECK(b.tensors[4].name == "W3");
}

TEST_CASE("batch norm's eval pass uses the running statistics, updated as PyTorch does",
          "[layers]") {
  const NetworkLayout layout = make_network_layout(kInputs, {norm(kBn, false)}, kOutputs);
  Problem<double> p = make_problem(layout, 3);
  network_forward(p.net, p.ws);  // one train pass: running = 0.9 * (0, 1) + 0.1 * batch
  const VecD mean = p.ws.input.rowwise().mean();
  const VecD var = ((p.ws.input.colwise() - mean).array().square().rowwise().sum() /
                    double(kBatch - 1)).matrix();  // unbiased in the running estimate
  const VecD expected_mean = 0.1 * mean;
  const VecD expected_var = (0.9 + 0.1 * var.array()).matrix();
  CHECK((p.net.state.head(kInputs) - expected_mean).norm() < 1e-14);
  CHECK((p.net.state.tail(kInputs) - expected_var).norm() < 1e-14);
  Workspace<double> eval = make_workspace<double>(layout, kBatch, Pass::eval);
  eval.input = p.ws.input;
  network_forward(p.net, eval);
  const Layer& bn = layout.layers[0];
  const MatD expected = ((p.ws.input.colwise() - expected_mean).array().colwise() /
                         (expected_var.array() + kNormEpsilon).sqrt()).matrix();
  INFO("eval output vs running-statistics normalization");
  CHECK((eval.out(bn) - expected).norm() < 1e-12);
  // The eval pass leaves the running statistics alone.
  CHECK((p.net.state.head(kInputs) - expected_mean).norm() < 1e-14);
}

// Chunks of 1 and 3 examples recompute the patches in backward (and, at stride 1, run
// forward, the input gradient and the weight gradient without them: conv2d_direct); 7 (the
// batch) keeps them, for im2col + Eigen's GEMM throughout. All must agree bit for bit.
template <class T>
void check_conv_chunks(Padding padding, long stride, long channels) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  const NetworkLayout layout =
      make_network_layout(Shape{2, 6, 5}, {conv(channels, 3, padding, stride)}, 2);
  const Layer& l = layout.layers[0];
  Rng rng = make_rng(5, "conv chunks");
  Vector params(Eigen::Index(layout.parameter_count));
  for (Eigen::Index i = 0; i < params.size(); ++i) params[i] = T(rng.normal());
  Matrix in(l.in_units, kBatch), dout(l.out_units, kBatch);
  for (Eigen::Index i = 0; i < in.size(); ++i) in.data()[i] = T(rng.normal());
  for (Eigen::Index i = 0; i < dout.size(); ++i) dout.data()[i] = T(rng.normal());
  const long positions = l.out_shape.positions(), k = l.in_shape.c * l.kernel * l.kernel;
  // keep_padded: forward's padded planes serve the weight gradient (a training step's path
  // when conv2d_keeps_padded_input), else backward pads the input again.
  Matrix padded;
  auto run = [&](long chunk, Matrix& out, Vector& grads, Matrix& din, bool keep_padded) {
    const ConvScratch s = conv2d_scratch(l);
    Matrix patches(positions * chunk, k), scratch(s.elements(), 1),
        flipped(s.flipped_rows, s.flipped_cols);
    padded = Matrix::Constant(conv2d_padded_elements(l), kBatch, T(7));
    out.resize(l.out_units, kBatch);
    din.resize(l.in_units, kBatch);
    grads = Vector::Zero(params.size());
    Matrix* kept = keep_padded ? &padded : nullptr;
    conv2d_forward<T>(l, params.data(), in, out, patches, scratch, kept);
    // Whatever forward left in the shared scratch must not matter to backward.
    scratch.setConstant(T(3));
    conv2d_backward<T>(l, params.data(), grads.data(), in, dout, &din, patches, scratch,
                       flipped, kept);
  };
  Matrix out7, din7, out, din;
  Vector grads7, grads;
  run(kBatch, out7, grads7, din7, false);
  REQUIRE(grads7.segment(Eigen::Index(l.w), l.out_shape.c * k).norm() > 0);
  for (auto [chunk, keep] : {std::pair{1L, false}, std::pair{1L, true}, std::pair{3L, false}}) {
    run(chunk, out, grads, din, keep);
    // Where forward runs without im2col, it leaves its planes for backward to read.
    const DirectConv g{l.in_shape.c, l.in_shape.h, l.in_shape.w, l.out_shape.c, l.out_shape.h,
                       l.out_shape.w, l.kernel, l.pad, padding == Padding::circular};
    if (keep && chunk < kBatch && stride == 1 && direct_conv_takes<T>(g))
      REQUIRE((padded.array() != T(7)).all());
    INFO("chunk " << chunk << (keep ? " (padded planes kept)" : "") << ", " << channels
                  << " channels, stride " << stride
                  << ": max differences out " << (out - out7).cwiseAbs().maxCoeff()
                  << ", grads " << (grads - grads7).cwiseAbs().maxCoeff() << ", din "
                  << (din - din7).cwiseAbs().maxCoeff());
    REQUIRE(out == out7);
    REQUIRE(grads == grads7);
    REQUIRE(din == din7);
  }
}

TEST_CASE("conv2d gives the same output and gradients whatever its chunk of examples",
          "[layers]") {
  const Padding padding = GENERATE(Padding::same, Padding::valid, Padding::circular);
  const long stride = GENERATE(1L, 2L);
  // 3 channels leave Eigen scalar rows in the weight gradient (im2col there too); 8 and 16
  // are one and two packets of doubles, 16 one packet of floats: conv2d_direct's dW.
  const long channels = GENERATE(3L, 8L, 16L);
  check_conv_chunks<double>(padding, stride, channels);
  check_conv_chunks<float>(padding, stride, channels);
  if (stride == 1 && channels == 16) {
    const NetworkLayout layout =
        make_network_layout(Shape{2, 6, 5}, {conv(channels, 3, padding, stride)}, 2);
    const Layer& l = layout.layers[0];
    const DirectConv g{2, 6, 5, 16, l.out_shape.h, l.out_shape.w, 3, l.pad,
                       padding == Padding::circular};
    INFO("the weight gradient is gathered from the padded planes here");
    CHECK(direct_weight_gradient_takes<float>(g));
    CHECK(direct_weight_gradient_takes<double>(g));
  }
}

namespace {

// max_pool by its definition: each window's first strictly larger entry in row-major order.
template <class T>
void reference_max_pool(const Layer& l, const Mat<T>& in, Mat<T>& out, Mat<T>& argmax) {
  const Shape &is = l.in_shape, &os = l.out_shape;
  for (long n = 0; n < in.cols(); ++n)
    for (long c = 0; c < os.c; ++c)
      for (long oy = 0; oy < os.h; ++oy)
        for (long ox = 0; ox < os.w; ++ox) {
          long best = (c * is.h + oy * l.stride) * is.w + ox * l.stride;
          for (long ky = 0; ky < l.kernel; ++ky)
            for (long kx = 0; kx < l.kernel; ++kx) {
              const long i = (c * is.h + oy * l.stride + ky) * is.w + ox * l.stride + kx;
              if (in(i, n) > in(best, n)) best = i;
            }
          const long o = (c * os.h + oy) * os.w + ox;
          out(o, n) = in(best, n);
          argmax(o, n) = T(best);
        }
}

template <class T>
void check_max_pool_2x2(long h, long w) {
  const NetworkLayout layout = make_network_layout(Shape{3, h, w}, {pool(LayerKind::max_pool)}, 2);
  const Layer& l = layout.layers[0];
  Rng rng = make_rng(std::uint64_t(h * 100 + w), "max pool");
  Mat<T> in(l.in_units, 2);
  // Few distinct values, so most windows tie (as after a relu), and some NaN and -inf.
  for (Eigen::Index i = 0; i < in.size(); ++i) {
    const double u = rng.uniform01();
    in.data()[i] = u < 0.05   ? std::numeric_limits<T>::quiet_NaN()
                   : u < 0.1  ? -std::numeric_limits<T>::infinity()
                              : T(std::floor(u * 4) - 1);
  }
  Mat<T> out(l.out_units, 2), argmax(l.out_units, 2), want(l.out_units, 2),
      want_argmax(l.out_units, 2);
  max_pool_forward<T>(l, in, out, argmax);
  reference_max_pool<T>(l, in, want, want_argmax);
  INFO(h << " x " << w << " input, " << l.out_shape.w << " windows per row, "
         << (sizeof(T) == 4 ? "float" : "double"));
  REQUIRE(argmax == want_argmax);
  REQUIRE(std::memcmp(out.data(), want.data(), sizeof(T) * std::size_t(out.size())) == 0);
}

}  // namespace

TEST_CASE("max_pool's 2 x 2 windows agree with the definition on ties and NaN at every row width",
          "[layers]") {
  // Output rows of 1-3 windows (one at a time), 4-7 and 8+ (lanes of 4 and 8 floats, the last
  // group overlapping), odd input sizes whose last row and column no window reads.
  for (long w : {2L, 3L, 5L, 6L, 8L, 9L, 14L, 15L, 16L, 17L, 28L, 29L, 34L, 56L})
    for (long h : {2L, 5L, 28L}) {
      check_max_pool_2x2<float>(h, w);
      check_max_pool_2x2<double>(h, w);
    }
}
