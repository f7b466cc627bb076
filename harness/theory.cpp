// Mean-field predictions; see theory.hpp.
#include "theory.hpp"

#include <Eigen/Eigenvalues>
#include <cmath>
#include <numbers>

#include "errors.hpp"

namespace gradflow {

double gaussian_expectation(const std::function<double(double)>& f, int points) {
  // Golub-Welsch: the nodes of the physicists' Hermite rule are the eigenvalues of the
  // symmetric tridiagonal Jacobi matrix with off-diagonal sqrt(k/2); weights are
  // sqrt(pi) * (first eigenvector component)^2. E[f(z)] = sum_i w_i f(sqrt(2) x_i) / sqrt(pi).
  Eigen::MatrixXd jacobi = Eigen::MatrixXd::Zero(points, points);
  for (int k = 1; k < points; ++k) jacobi(k, k - 1) = jacobi(k - 1, k) = std::sqrt(k / 2.0);
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(jacobi);
  double sum = 0;
  for (int i = 0; i < points; ++i) {
    const double v0 = solver.eigenvectors()(0, i);
    sum += v0 * v0 * f(std::numbers::sqrt2 * solver.eigenvalues()(i));
  }
  return sum;  // the weights sum to sqrt(pi), which cancels the 1/sqrt(pi)
}

FlowPrediction predict_flow(const ActivationSpec& act, const std::vector<double>& sigma_w2,
                            double sigma_b2, double q_input, const std::vector<long>& widths,
                            long inputs) {
  const std::size_t hidden = widths.size();
  GF_ASSERT(sigma_w2.size() == hidden + 1);
  FlowPrediction p;
  // Forward: q_1 from the input's second moment, then the variance map.
  double prev_a2 = q_input;  // mean square of the previous layer's outputs (per unit)
  std::vector<double> a2;    // mean square of phi(z_l), hidden layers
  for (std::size_t l = 0; l < hidden; ++l) {
    const double q = sigma_w2[l] * prev_a2 + sigma_b2;
    const double s = std::sqrt(q);
    p.q.push_back(q);
    prev_a2 = gaussian_expectation([&](double z) {
      const double v = activation_value(act, s * z);
      return v * v;
    });
    a2.push_back(prev_a2);
    p.chi.push_back(sigma_w2[l + 1] * gaussian_expectation([&](double z) {
      const double d = activation_derivative(act, s * z);
      return d * d;
    }));
  }
  // Backward: ||delta_l||^2 = chi_l ||delta_{l+1}||^2, independent of the widths.
  p.delta_log10.assign(hidden + 1, 0.0);
  for (std::size_t l = hidden; l-- > 0;)
    p.delta_log10[l] = p.delta_log10[l + 1] + 0.5 * std::log10(p.chi[l]);
  // ||dW_l|| = ||delta_l|| ||a_{l-1}|| per example, ||a||^2 = units x mean square.
  auto input_norm2 = [&](std::size_t l) {
    return l == 0 ? double(inputs) * q_input : double(widths[l - 1]) * a2[l - 1];
  };
  const double out_input = input_norm2(hidden);
  for (std::size_t l = 0; l <= hidden; ++l)
    p.grad_w_log10.push_back(p.delta_log10[l] + 0.5 * std::log10(input_norm2(l) / out_input));
  return p;
}

}  // namespace gradflow
