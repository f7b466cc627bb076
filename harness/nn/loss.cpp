// Loss values in double (float32 runs included) and their gradients in the run's precision.
#include "nn/loss.hpp"

#include <cmath>

#include "base/errors.hpp"

namespace gradflow {

template <class T>
long count_correct(const Mat<T>& outputs, const std::vector<int>& labels) {
  long correct = 0;
  for (Eigen::Index j = 0; j < outputs.cols(); ++j) {
    Eigen::Index best = 0;
    for (Eigen::Index k = 1; k < outputs.rows(); ++k)
      if (outputs(k, j) > outputs(best, j)) best = k;
    correct += best == labels[std::size_t(j)];
  }
  return correct;
}

template <class T>
LossValue softmax_cross_entropy(const Mat<T>& logits, const std::vector<int>& labels,
                                Mat<T>* dlogits) {
  GF_ASSERT(std::size_t(logits.cols()) == labels.size());
  const long batch = logits.cols();
  const long classes = logits.rows();
  const double inv_batch = 1.0 / double(batch);
  double total = 0;
  for (long j = 0; j < batch; ++j) {
    // log-sum-exp with the max subtracted, in double.
    double m = -INFINITY;
    for (long k = 0; k < classes; ++k) m = std::max(m, double(logits(k, j)));
    double sum = 0;
    for (long k = 0; k < classes; ++k) sum += std::exp(double(logits(k, j)) - m);
    const double log_sum = m + std::log(sum);
    const int y = labels[std::size_t(j)];
    total += log_sum - double(logits(y, j));
    if (dlogits) {
      for (long k = 0; k < classes; ++k) {
        const double p = std::exp(double(logits(k, j)) - log_sum);
        (*dlogits)(k, j) = T((p - (k == y ? 1.0 : 0.0)) * inv_batch);
      }
    }
  }
  return {total * inv_batch, count_correct(logits, labels)};
}

template <class T>
LossValue mean_squared_error(const Mat<T>& outputs, const Mat<T>& targets, Mat<T>* doutputs) {
  GF_ASSERT(outputs.rows() == targets.rows() && outputs.cols() == targets.cols());
  const double scale = 1.0 / double(outputs.size());
  double total = 0;
  for (Eigen::Index j = 0; j < outputs.cols(); ++j) {
    for (Eigen::Index k = 0; k < outputs.rows(); ++k) {
      const double e = double(outputs(k, j)) - double(targets(k, j));
      total += e * e;
      if (doutputs) (*doutputs)(k, j) = T(2.0 * e * scale);
    }
  }
  return {total * scale, 0};
}

#define GRADFLOW_INSTANTIATE(T)                                                              \
  template long count_correct<T>(const Mat<T>&, const std::vector<int>&);                  \
  template LossValue softmax_cross_entropy<T>(const Mat<T>&, const std::vector<int>&,     \
                                              Mat<T>*);                                    \
  template LossValue mean_squared_error<T>(const Mat<T>&, const Mat<T>&, Mat<T>*);
GRADFLOW_INSTANTIATE(float)
GRADFLOW_INSTANTIATE(double)
#undef GRADFLOW_INSTANTIATE

}  // namespace gradflow
