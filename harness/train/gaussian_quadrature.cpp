// Split composite Gauss-Legendre rules for Gaussian expectations; see gaussian_quadrature.hpp.
#include "train/gaussian_quadrature.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace gradflow {
namespace {

constexpr double kSpan = 9.0;  // integrate z over [-kSpan, kSpan]
constexpr int kPanelPoints = 12;

struct Rule {
  std::vector<double> nodes, weights;
};

// Golub & Welsch (1969): Gauss-Legendre nodes on [-1, 1] are the eigenvalues of the Jacobi
// matrix with off-diagonal k / sqrt(4k^2 - 1); weights 2 (first eigenvector component)^2.
const Rule& legendre() {
  static const Rule rule = [] {
    Eigen::MatrixXd jacobi = Eigen::MatrixXd::Zero(kPanelPoints, kPanelPoints);
    for (int k = 1; k < kPanelPoints; ++k)
      jacobi(k, k - 1) = jacobi(k - 1, k) = k / std::sqrt(4.0 * k * k - 1.0);
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(jacobi);
    Rule r;
    for (int i = 0; i < kPanelPoints; ++i) {
      const double v0 = solver.eigenvectors()(0, i);
      r.nodes.push_back(solver.eigenvalues()(i));
      r.weights.push_back(2 * v0 * v0);
    }
    return r;
  }();
  return rule;
}

// Nodes z and weights w (density included: sum w f(z) ~ E[f(Z)]) for a function of z that is
// smooth except at `kink` and varies on a scale of 1 / `scale` there: panels start at
// min(1/4, 1/(4 scale)) on both sides of the kink and double up to width 1.
void normal_rule(double kink, double scale, Rule& out) {
  out.nodes.clear();
  out.weights.clear();
  std::vector<double> cuts = {-kSpan, kSpan};
  const double first = std::min(0.25, 0.25 / std::max(scale, 1e-300));
  if (std::isfinite(kink) && std::abs(kink) < kSpan) {
    cuts.push_back(kink);
    for (const double side : {-1.0, 1.0}) {
      double offset = 0, width = first;
      while (true) {
        offset += width;
        const double at = kink + side * offset;
        if (at <= -kSpan || at >= kSpan) break;
        cuts.push_back(at);
        width = std::min(1.0, 2 * width);
      }
    }
  } else {
    for (double at = -kSpan + 1; at < kSpan; at += 1) cuts.push_back(at);
  }
  std::sort(cuts.begin(), cuts.end());
  const Rule& gl = legendre();
  const double density = 1 / std::sqrt(2 * std::numbers::pi);
  for (std::size_t p = 0; p + 1 < cuts.size(); ++p) {
    const double half = (cuts[p + 1] - cuts[p]) / 2, mid = (cuts[p + 1] + cuts[p]) / 2;
    if (half <= 0) continue;
    for (int i = 0; i < kPanelPoints; ++i) {
      const double z = mid + half * gl.nodes[std::size_t(i)];
      out.nodes.push_back(z);
      out.weights.push_back(half * gl.weights[std::size_t(i)] * density * std::exp(-z * z / 2));
    }
  }
}

double kink_of(double mean, double scale) { return scale > 0 ? -mean / scale : INFINITY; }

}  // namespace

double normal_expectation(const std::function<double(double)>& f, double mean, double scale) {
  if (!(scale > 0)) return f(mean);
  Rule rule;
  normal_rule(kink_of(mean, scale), scale, rule);
  double sum = 0;
  for (std::size_t i = 0; i < rule.nodes.size(); ++i)
    sum += rule.weights[i] * f(mean + scale * rule.nodes[i]);
  return sum;
}

double normal_pair_expectation(const std::function<double(double)>& f,
                               const std::function<double(double)>& g, double mean, double scale,
                               double rho) {
  rho = std::clamp(rho, -1.0, 1.0);
  const double r = std::sqrt(1 - rho * rho);
  if (!(scale > 0)) return f(mean) * g(mean);
  if (r < 1e-12)
    return normal_expectation([&](double x) { return f(x) * g(mean + rho * (x - mean)); }, mean,
                              scale);
  Rule outer, inner;
  normal_rule(kink_of(mean, scale), scale, outer);
  double sum = 0;
  for (std::size_t i = 0; i < outer.nodes.size(); ++i) {
    const double za = outer.nodes[i];
    // g's argument mean + scale (rho za + r w) crosses 0 at w = (-mean/scale - rho za) / r.
    normal_rule((kink_of(mean, scale) - rho * za) / r, scale * r, inner);
    double inner_sum = 0;
    for (std::size_t j = 0; j < inner.nodes.size(); ++j)
      inner_sum += inner.weights[j] * g(mean + scale * (rho * za + r * inner.nodes[j]));
    sum += outer.weights[i] * f(mean + scale * za) * inner_sum;
  }
  return sum;
}

}  // namespace gradflow
