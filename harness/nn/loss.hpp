// Losses on a batch of network outputs (outputs, batch): value (double), gradient of the
// batch-mean loss with respect to the outputs, and accuracy for classification.
#pragma once

#include <vector>

#include "nn/numeric.hpp"

namespace gradflow {

struct LossValue {
  double loss = 0;     // mean over the batch
  long correct = 0;    // classification: argmax == label; 0 for regression
};

// Softmax cross-entropy, mean over the batch: -1/B sum_i log softmax(z_i)[y_i].
// dlogits (same shape, may be nullptr) = (softmax(z) - onehot(y)) / B.
template <class T>
LossValue softmax_cross_entropy(const Mat<T>& logits, const std::vector<int>& labels,
                                Mat<T>* dlogits);

// Mean squared error over every element (PyTorch's MSELoss default):
// 1/(B K) sum (y - t)^2; doutputs = 2 (y - t) / (B K). With class labels as targets the
// caller passes one-hot targets.
template <class T>
LossValue mean_squared_error(const Mat<T>& outputs, const Mat<T>& targets, Mat<T>* doutputs);

// Number of columns whose argmax equals the label (ties: the first maximum).
template <class T>
long count_correct(const Mat<T>& outputs, const std::vector<int>& labels);

}  // namespace gradflow
