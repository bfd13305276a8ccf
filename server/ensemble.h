// Ensemble statistics of K generated networks on N inputs, accumulated over chunks of
// members so that the [K, N, classes] probabilities never exist at once. The three rules
// decide exactly as core::MajorityVote, core::MeanProbability and core::MostConfident.
#ifndef HNET_SERVER_ENSEMBLE_H_
#define HNET_SERVER_ENSEMBLE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "hnet/v1/service.pb.h"

namespace hnet::server {

// Per-input results for inputs [begin, end) of an accumulator. CPU tensors.
struct EnsembleResult {
  at::Tensor predicted;           // [N] int64, by the requested rule.
  at::Tensor mean_probabilities;  // [N, C] float32.
  at::Tensor votes;               // [N, C] int64: members whose argmax is each class.
  at::Tensor agreement;           // [N] float32: fraction of members voting `predicted`.
  at::Tensor predictive_entropy;  // [N] float32: entropy of the mean prediction (nats).
  at::Tensor mutual_information;  // [N] float32: predictive minus mean member entropy.
  at::Tensor members;             // [K, N] int32 member argmaxes, or undefined.
};

class EnsembleAccumulator {
 public:
  // For `members` networks on `inputs` inputs with `classes` classes; keeps every member's
  // prediction when `keep_members`.
  EnsembleAccumulator(int64_t members, int64_t inputs, int64_t classes, bool keep_members);

  // Adds member probabilities probs [k, inputs, classes] (CPU float32) of members
  // [first, first + k). Members must be added in ascending order, each exactly once.
  void Add(const at::Tensor& probs, int64_t first);

  // Results for inputs [begin, end) under `rule` (UNSPECIFIED means MEAN_PROBABILITY).
  EnsembleResult Finish(int64_t begin, int64_t end, hnet::v1::EnsembleRule rule) const;

 private:
  int64_t members_;
  int64_t added_ = 0;
  at::Tensor prob_sum_;      // [N, C] float64.
  at::Tensor votes_;         // [N, C] int64.
  at::Tensor entropy_sum_;   // [N] float64: sum of member entropies.
  at::Tensor best_conf_;     // [N] float32: largest member max-probability so far.
  at::Tensor best_class_;    // [N] int64: that member's class.
  at::Tensor member_preds_;  // [K, N] int32 or undefined.
};

// Entropy (nats) of probabilities along the last dimension; 0 log 0 = 0.
at::Tensor Entropy(const at::Tensor& probs);

}  // namespace hnet::server

#endif  // HNET_SERVER_ENSEMBLE_H_
