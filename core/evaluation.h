// Evaluation maths for batches of generated networks: per-network accuracy and the three
// ensemble rules of the reference (majority vote, mean probability, most confident member).
#ifndef HNET_CORE_EVALUATION_H_
#define HNET_CORE_EVALUATION_H_

#include <ATen/core/Tensor.h>

#include <vector>

#include "core/target_forward.h"
#include "core/target_spec.h"

namespace hnet::core {

// Softmax outputs of N networks on M shared images x [M, C, H, W]: [N, M, classes] float32
// on CPU. Runs without autograd in chunks of about `chunk` network-images per pass, on the
// weights' device.
at::Tensor PredictProbabilities(const TargetLayout& layout, const WeightBatch& weights,
                                const at::Tensor& images, int64_t chunk = 2048);

// Fraction of correct argmax predictions of each network: probs [N, M, K], labels [M].
std::vector<double> NetworkAccuracies(const at::Tensor& probs, const at::Tensor& labels);

// Ensemble predictions [M] from probs [N, M, K]. Majority vote takes each member's argmax
// and the class with most votes (ties go to the lowest class index); mean probability takes
// the argmax of the members' mean; most confident follows the member with the largest
// maximum probability.
at::Tensor MajorityVote(const at::Tensor& probs);
at::Tensor MeanProbability(const at::Tensor& probs);
at::Tensor MostConfident(const at::Tensor& probs);

// Fraction of predictions equal to their labels: predictions [M] and labels [M] class indices,
// on any devices (labels are compared on the predictions' device). NaN when M is 0.
double Accuracy(const at::Tensor& predictions, const at::Tensor& labels);

struct Summary {
  double mean = 0, std = 0, min = 0, max = 0;
};
// Mean, population standard deviation (divides by n, not n - 1), min and max of `values`;
// all zero when `values` is empty.
Summary Summarize(const std::vector<double>& values);

}  // namespace hnet::core

#endif  // HNET_CORE_EVALUATION_H_
