// Evaluation metrics as stateless free functions on tensors: calibration (ECE, NLL, Brier,
// reliability bins), out-of-distribution scores (predictive entropy, mutual information) and
// their AUROC/AUPR, diversity of ensembles (pairwise disagreement, weight-space distances)
// and PCA. All functions are thread-compatible, take CPU or device tensors and return CPU
// values; probabilities are softmax outputs, labels int64 class indices.
#ifndef HNET_EVAL_METRICS_H_
#define HNET_EVAL_METRICS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace hnet::eval {

// One confidence bin of a reliability diagram: predictions whose top probability falls in
// [lower, upper) (the last bin includes 1).
struct ReliabilityBin {
  double lower = 0, upper = 0;
  int64_t count = 0;
  double mean_confidence = 0;  // 0 when empty.
  double accuracy = 0;         // 0 when empty.
};

// Equal-width confidence bins of probs [M, K] against labels [M].
std::vector<ReliabilityBin> ReliabilityBins(const at::Tensor& probs, const at::Tensor& labels,
                                            int bins = 15);

// Expected calibration error: sum over bins of |accuracy - confidence| weighted by the bin's
// share of the M predictions (probs [M, K], labels [M]).
double ExpectedCalibrationError(const at::Tensor& probs, const at::Tensor& labels, int bins = 15);

// Mean negative log-likelihood of the labels, -mean log p[label], with p clamped at 1e-12.
double NegativeLogLikelihood(const at::Tensor& probs, const at::Tensor& labels);

// Mean multi-class Brier score: mean over examples of sum_k (p_k - onehot_k)^2 (in [0, 2]).
double BrierScore(const at::Tensor& probs, const at::Tensor& labels);

// Entropy (nats) of each row of probs [M, K] -> [M] float64.
at::Tensor PredictiveEntropy(const at::Tensor& probs);

// Mutual information between prediction and member for member probs [N, M, K] -> [M]
// float64: entropy of the mean prediction minus the mean entropy of the members (>= 0).
at::Tensor MutualInformation(const at::Tensor& probs);

// Area under the ROC curve for telling positives from negatives by score (higher score =
// more positive); ties count one half. Both inputs 1-D, non-empty.
double Auroc(const at::Tensor& positive_scores, const at::Tensor& negative_scores);

// Area under the precision-recall curve of the positives (average precision: the mean of
// the precision at each positive's rank, tied scores ranked together).
double Aupr(const at::Tensor& positive_scores, const at::Tensor& negative_scores);

struct Disagreement {
  double mean = 0;        // Mean over pairs i < j of the fraction of differing argmaxes.
  double mean_error = 0;  // Mean error rate of the members (needs labels).
  double normalized = 0;  // mean / mean_error (0 when mean_error is 0).
  int64_t pairs = 0;
};

// Pairwise disagreement of member probs [N, M, K] (N >= 2) on M inputs with labels [M].
Disagreement PairwiseDisagreement(const at::Tensor& probs, const at::Tensor& labels);

// Euclidean distances between rows of x [N, D] -> [N, N] float64 (0 on the diagonal).
at::Tensor PairwiseDistances(const at::Tensor& x);

struct DistanceSummary {
  double mean = 0, std = 0, min = 0, max = 0;  // Over pairs i < j.
  double mean_nearest = 0;  // Mean distance from each row to its nearest other row.
  double mean_norm = 0;     // Mean Euclidean norm of the rows (for scale).
};
DistanceSummary SummarizeDistances(const at::Tensor& x);  // x [N >= 2, D]

struct Pca {
  at::Tensor mean;                // [D] float64
  at::Tensor components;          // [k, D] float64, orthonormal rows, by decreasing variance.
  at::Tensor explained_variance;  // [k] float64 (sample variance, n - 1 denominator).
  at::Tensor explained_ratio;     // [k] share of the total variance.
  at::Tensor projections;         // [N, k] float64 coordinates of the centred rows.
};

// Principal components of data [N, D] (N >= 2) by SVD of the centred data; k is clamped to
// min(N, D). Each component's sign is fixed so that its largest-magnitude entry is positive.
Pca PrincipalComponents(const at::Tensor& data, int64_t k);

}  // namespace hnet::eval

#endif  // HNET_EVAL_METRICS_H_
