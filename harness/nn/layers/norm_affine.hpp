// The learnable affine step batch_norm and layer_norm share: out = gamma x_hat + beta, one
// gamma and beta per row of x_hat (batch norm after a conv spreads each channel's values
// over its positions first). Null gamma/beta pointers mean no affine (model.norm_affine false).
#pragma once

#include "nn/network.hpp"

namespace gradflow {

// out = gamma x_hat + beta per row, or x_hat. x_hat, out (rows, batch); gamma, beta (rows).
template <class T>
void norm_affine_forward(const T* gamma, const T* beta, const Mat<T>& x_hat, Mat<T>& out) {
  if (!gamma) {
    out = x_hat;
    return;
  }
  const Eigen::Map<const Vec<T>> g(gamma, x_hat.rows()), b(beta, x_hat.rows());
  out.array() = (x_hat.array().colwise() * g.array()).colwise() + b.array();
}

// Per row: dgamma = sum over the batch of dout x_hat, dbeta = sum over the batch of dout.
template <class T>
void norm_affine_param_grads(const Mat<T>& dout, const Mat<T>& x_hat, T* dgamma, T* dbeta) {
  VecMap<T>(dgamma, x_hat.rows()).noalias() =
      (dout.array() * x_hat.array()).matrix().rowwise().sum();
  VecMap<T>(dbeta, x_hat.rows()).noalias() = dout.rowwise().sum();
}

// dx_hat = gamma dout per row, or dout.
template <class T>
void norm_affine_input_grad(const T* gamma, const Mat<T>& dout, Mat<T>& dx_hat) {
  if (!gamma) {
    dx_hat = dout;
    return;
  }
  dx_hat.array() = dout.array().colwise() * Eigen::Map<const Vec<T>>(gamma, dout.rows()).array();
}

}  // namespace gradflow
