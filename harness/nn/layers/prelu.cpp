// prelu: a leaky ReLU whose negative slope is learned (He et al. 2015, "Delving deep into
// rectifiers", eq. 1-2): one slope per unit on a dense activation, one per channel after a
// conv (the paper's channel-wise variant; PyTorch's nn.PReLU(C)), shared by its positions.
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {
namespace {

// dphi = 1 where in > 0, else a; out = max(0, in) + a min(0, in), for a block of rows that
// share the slopes `a` (one per row, or one scalar broadcast over the block).
template <class T, class In, class A>
void prelu_rows(const In& in, const A& a, Mat<T>& out, Mat<T>& dphi, long row, long rows) {
  auto d = dphi.middleRows(row, rows).array();
  // step = 1 where in > 0, else 0, without select() (not vectorised).
  d = in.array().max(T(0)).ceil().min(T(1));
  d += (T(1) - d) * a;
  out.middleRows(row, rows).array() = in.array().max(T(0)) + in.array().min(T(0)) * a;
}

}  // namespace

template <class T>
void prelu_forward(const Layer& l, const T* params, const Mat<T>& in, Mat<T>& out, Mat<T>& dphi) {
  const long positions = l.out_shape.positions();
  if (positions == 1) {
    const Eigen::Map<const Vec<T>> a(params + l.w, l.out_units);  // (units)
    dphi.array() = in.array().max(T(0)).ceil().min(T(1));
    dphi.array() += (T(1) - dphi.array()).colwise() * a.array();  // 1 or a_u
    out.array() = in.array().max(T(0)) + in.array().min(T(0)).colwise() * a.array();
    return;
  }
  for (long c = 0; c < l.out_shape.c; ++c)  // (C P, batch): channel c's P rows share a_c
    prelu_rows<T>(in.middleRows(c * positions, positions), params[l.w + std::size_t(c)], out,
                  dphi, c * positions, positions);
}

// da = sum of dout * min(0, in) over the batch (and a channel's positions); din = dout * dphi
// (din may be dout).
template <class T>
void prelu_backward(const Layer& l, T* grads, const Mat<T>& in, const Mat<T>& dphi,
                    const Mat<T>& dout, Mat<T>& din) {
  const long positions = l.out_shape.positions();
  if (positions == 1) {
    VecMap<T> da(grads + l.w, l.out_units);
    da.noalias() = (dout.array() * in.array().min(T(0))).matrix().rowwise().sum();  // before din
  } else {
    for (long c = 0; c < l.out_shape.c; ++c)
      grads[l.w + std::size_t(c)] = (dout.middleRows(c * positions, positions).array() *
                                     in.middleRows(c * positions, positions).array().min(T(0)))
                                        .sum();
  }
  if (&din == &dout)
    din.array() *= dphi.array();
  else
    din.array() = dout.array() * dphi.array();
}

#define INSTANTIATE(T)                                                                        \
  template void prelu_forward<T>(const Layer&, const T*, const Mat<T>&, Mat<T>&, Mat<T>&);   \
  template void prelu_backward<T>(const Layer&, T*, const Mat<T>&, const Mat<T>&,            \
                                  const Mat<T>&, Mat<T>&);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
