// The dense layer's forward starts its product at the bias where that is exact (it saves
// Eigen's zeroing pass): its output must equal (W x) + b bit for bit at every shape, whichever
// path it takes (depth cut into blocks, matrix-vector products, tiny products).
#include <catch2/catch.hpp>

#include <tuple>

#include "nn/layers/layers.hpp"
#include "nn/rng.hpp"

using namespace gradflow;

namespace {

template <class T>
void check_dense_forward_is_product_plus_bias(long out_units, long in_units, long batch) {
  Layer l;
  l.kind = LayerKind::dense;
  l.in_units = in_units;
  l.out_units = out_units;
  l.w = 0;
  l.b = std::size_t(out_units * in_units);
  Rng rng = make_rng(7, "dense");
  Vec<T> params(out_units * in_units + out_units);
  for (Eigen::Index i = 0; i < params.size(); ++i) params[i] = T(rng.normal());
  Mat<T> in(in_units, batch);
  for (Eigen::Index i = 0; i < in.size(); ++i) in.data()[i] = T(rng.normal());
  const Eigen::Map<const Mat<T>> w(params.data(), out_units, in_units);
  const Eigen::Map<const Vec<T>> b(params.data() + l.b, out_units);
  Mat<T> expected(out_units, batch);
  expected.noalias() = w * in;
  expected.colwise() += b;
  Mat<T> out(out_units, batch);
  dense_forward<T>(l, params.data(), in, out);
  const long differing = (out.array() != expected.array()).count();
  INFO(out_units << " x " << in_units << ", batch " << batch << ": " << differing
                 << " entries differ, largest by " << (out - expected).cwiseAbs().maxCoeff());
  REQUIRE(differing == 0);
}

}  // namespace

TEST_CASE("dense forward equals W x + b bit for bit at every shape", "[layers][dense]") {
  const auto [out_units, in_units, batch] = GENERATE(
      std::make_tuple(64L, 64L, 64L), std::make_tuple(10L, 1024L, 64L),
      std::make_tuple(1024L, 1024L, 64L), std::make_tuple(256L, 784L, 512L),
      std::make_tuple(3L, 5L, 7L), std::make_tuple(64L, 64L, 1L), std::make_tuple(1L, 64L, 64L),
      std::make_tuple(64L, 4096L, 16L), std::make_tuple(2L, 3000L, 2L));
  check_dense_forward_is_product_plus_bias<double>(out_units, in_units, batch);
  check_dense_forward_is_product_plus_bias<float>(out_units, in_units, batch);
}
