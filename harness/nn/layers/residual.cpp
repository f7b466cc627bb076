// residual: out = skip(in) + s branch(in), the branch being the block's own layers (run by
// network.cpp). Pre-activation blocks in the shorthand (He et al. 2016, "Identity mappings in
// deep residual networks"); s = 1, 1/sqrt(blocks), or a learned alpha initialized to 0
// (ReZero, Bachlechner et al. 2020; SkipInit, De & Smith 2020).
#include "nn/layers/instantiate.hpp"
#include "nn/layers/layers.hpp"

namespace gradflow {
namespace {

template <class T>
T branch_scale(const Layer& l, const T* params) {
  return l.scale_kind == ResidualScale::rezero ? params[l.w] : T(l.scale);
}

}  // namespace

template <class T>
void residual_forward(const Layer& l, const T* params, const Mat<T>& in, const Mat<T>& branch,
                      Mat<T>& out) {
  const T s = branch_scale(l, params);
  if (l.projection != kNoOffset) {
    const Eigen::Map<const Mat<T>> p(params + l.projection, l.out_units, l.in_units);
    out.noalias() = p * in;  // (out, batch)
    out.noalias() += s * branch;
  } else if (l.scale_kind == ResidualScale::constant && l.scale == 1.0) {
    out.noalias() = in + branch;
  } else {
    out.noalias() = in + s * branch;
  }
}

template <class T>
void residual_backward_branch(const Layer& l, const T* params, T* grads, const Mat<T>& branch,
                              const Mat<T>& dout, Mat<T>& dbranch) {
  if (l.scale_kind == ResidualScale::rezero)
    grads[l.w] = (dout.array() * branch.array()).sum();  // dalpha
  const T s = branch_scale(l, params);
  if (l.scale_kind == ResidualScale::constant && l.scale == 1.0)
    dbranch = dout;
  else
    dbranch.noalias() = s * dout;
}

template <class T>
void residual_backward_skip(const Layer& l, const T* params, T* grads, const Mat<T>& in,
                            const Mat<T>& dout, Mat<T>* din) {
  if (l.projection != kNoOffset) {
    MatMap<T> dp(grads + l.projection, l.out_units, l.in_units);
    dp.noalias() = dout * in.transpose();
    if (din) {
      const Eigen::Map<const Mat<T>> p(params + l.projection, l.out_units, l.in_units);
      din->noalias() += p.transpose() * dout;
    }
  } else if (din) {
    *din += dout;
  }
}

#define INSTANTIATE(T)                                                                          \
  template void residual_forward<T>(const Layer&, const T*, const Mat<T>&, const Mat<T>&,       \
                                    Mat<T>&);                                                   \
  template void residual_backward_branch<T>(const Layer&, const T*, T*, const Mat<T>&,          \
                                            const Mat<T>&, Mat<T>&);                            \
  template void residual_backward_skip<T>(const Layer&, const T*, T*, const Mat<T>&,            \
                                          const Mat<T>&, Mat<T>*);
GRADFLOW_LAYER_INSTANTIATE(INSTANTIATE)

}  // namespace gradflow
