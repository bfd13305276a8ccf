#include "eval/metrics.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace hnet::eval {
namespace {

constexpr double kProbFloor = 1e-12;

std::vector<double> ToVector(const at::Tensor& t) {
  at::Tensor c = t.detach().reshape({-1}).to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

at::Tensor CpuDouble(const at::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat64); }

}  // namespace

std::vector<ReliabilityBin> ReliabilityBins(const at::Tensor& probs, const at::Tensor& labels,
                                            int bins) {
  TORCH_CHECK(probs.dim() == 2 && labels.dim() == 1 && probs.size(0) == labels.size(0),
              "reliability bins need probs [M, K] and labels [M], got ", probs.sizes(), " and ",
              labels.sizes());
  TORCH_CHECK(bins >= 1, "reliability bins: bins must be >= 1");
  at::Tensor p = CpuDouble(probs);
  auto [confidence, predicted] = p.max(1);
  const std::vector<double> conf = ToVector(confidence);
  const std::vector<double> correct = ToVector(predicted.eq(labels.to(torch::kCPU)));
  std::vector<ReliabilityBin> out(bins);
  std::vector<double> conf_sum(bins, 0), correct_sum(bins, 0);
  for (int b = 0; b < bins; ++b) {
    out[b].lower = static_cast<double>(b) / bins;
    out[b].upper = static_cast<double>(b + 1) / bins;
  }
  for (size_t i = 0; i < conf.size(); ++i) {
    const int b = std::clamp(static_cast<int>(conf[i] * bins), 0, bins - 1);
    out[b].count++;
    conf_sum[b] += conf[i];
    correct_sum[b] += correct[i];
  }
  for (int b = 0; b < bins; ++b) {
    if (out[b].count == 0) continue;
    out[b].mean_confidence = conf_sum[b] / out[b].count;
    out[b].accuracy = correct_sum[b] / out[b].count;
  }
  return out;
}

double ExpectedCalibrationError(const at::Tensor& probs, const at::Tensor& labels, int bins) {
  const std::vector<ReliabilityBin> rel = ReliabilityBins(probs, labels, bins);
  const double total = static_cast<double>(probs.size(0));
  double ece = 0;
  for (const ReliabilityBin& b : rel) {
    ece += b.count / total * std::abs(b.accuracy - b.mean_confidence);
  }
  return ece;
}

double NegativeLogLikelihood(const at::Tensor& probs, const at::Tensor& labels) {
  TORCH_CHECK(probs.dim() == 2 && labels.dim() == 1 && probs.size(0) == labels.size(0),
              "NLL needs probs [M, K] and labels [M], got ", probs.sizes(), " and ",
              labels.sizes());
  at::Tensor p = CpuDouble(probs).gather(1, labels.to(torch::kCPU).unsqueeze(1));
  return -torch::log(p.clamp_min(kProbFloor)).mean().item<double>();
}

double BrierScore(const at::Tensor& probs, const at::Tensor& labels) {
  TORCH_CHECK(probs.dim() == 2 && labels.dim() == 1 && probs.size(0) == labels.size(0),
              "Brier score needs probs [M, K] and labels [M], got ", probs.sizes(), " and ",
              labels.sizes());
  at::Tensor p = CpuDouble(probs);
  at::Tensor onehot = torch::one_hot(labels.to(torch::kCPU), p.size(1)).to(torch::kFloat64);
  return (p - onehot).pow(2).sum(1).mean().item<double>();
}

at::Tensor PredictiveEntropy(const at::Tensor& probs) {
  at::Tensor p = CpuDouble(probs);
  return -(p * torch::log(p.clamp_min(kProbFloor))).sum(-1);
}

at::Tensor MutualInformation(const at::Tensor& probs) {
  TORCH_CHECK(probs.dim() == 3, "mutual information needs probs [N, M, K], got ", probs.sizes());
  at::Tensor p = CpuDouble(probs);
  at::Tensor mi = PredictiveEntropy(p.mean(0)) - PredictiveEntropy(p).mean(0);
  return mi.clamp_min(0);
}

double Auroc(const at::Tensor& positive_scores, const at::Tensor& negative_scores) {
  const std::vector<double> pos = ToVector(positive_scores);
  const std::vector<double> neg = ToVector(negative_scores);
  TORCH_CHECK(!pos.empty() && !neg.empty(), "AUROC needs positive and negative scores");
  // Mann-Whitney U with average ranks for ties.
  std::vector<std::pair<double, bool>> all;
  all.reserve(pos.size() + neg.size());
  for (double s : pos) all.emplace_back(s, true);
  for (double s : neg) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double rank_sum = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    int64_t positives = 0;
    while (j < all.size() && all[j].first == all[i].first) positives += all[j++].second;
    const double average_rank = 0.5 * static_cast<double>(i + 1 + j);  // Ranks i+1 .. j.
    rank_sum += average_rank * positives;
    i = j;
  }
  const double np = static_cast<double>(pos.size());
  const double nn = static_cast<double>(neg.size());
  return (rank_sum - np * (np + 1) / 2) / (np * nn);
}

double Aupr(const at::Tensor& positive_scores, const at::Tensor& negative_scores) {
  const std::vector<double> pos = ToVector(positive_scores);
  const std::vector<double> neg = ToVector(negative_scores);
  TORCH_CHECK(!pos.empty() && !neg.empty(), "AUPR needs positive and negative scores");
  std::vector<std::pair<double, bool>> all;
  for (double s : pos) all.emplace_back(s, true);
  for (double s : neg) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  double tp = 0, fp = 0, ap = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    double group_pos = 0;
    for (; j < all.size() && all[j].first == all[i].first; ++j) {
      (all[j].second ? group_pos : fp) += 1;
    }
    tp += group_pos;
    if (group_pos > 0) ap += group_pos / pos.size() * (tp / (tp + fp));
    i = j;
  }
  return ap;
}

Disagreement PairwiseDisagreement(const at::Tensor& probs, const at::Tensor& labels) {
  TORCH_CHECK(probs.dim() == 3 && probs.size(0) >= 2,
              "pairwise disagreement needs probs [N >= 2, M, K], got ", probs.sizes());
  const int64_t n = probs.size(0);
  const int64_t m = probs.size(1);
  at::Tensor predicted = probs.argmax(-1).cpu();  // [N, M]
  // Agreeing pairs on image j: sum over classes c of C(count_jc, 2). Counted by scatter, so
  // memory stays O(M K) for any N.
  at::Tensor counts = torch::zeros({m, probs.size(2)}, torch::kFloat64);
  counts.scatter_add_(1, predicted.t().contiguous(), torch::ones({m, n}, torch::kFloat64));
  const double agreeing = (counts * (counts - 1) / 2).sum().item<double>();
  const double pairs = static_cast<double>(n) * (n - 1) / 2;
  Disagreement d;
  d.pairs = static_cast<int64_t>(pairs);
  d.mean = 1.0 - agreeing / (pairs * m);
  d.mean_error =
      1.0 - predicted.eq(labels.cpu().unsqueeze(0)).to(torch::kFloat64).mean().item<double>();
  d.normalized = d.mean_error > 0 ? d.mean / d.mean_error : 0;
  return d;
}

at::Tensor PairwiseDistances(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 2, "pairwise distances need x [N, D], got ", x.sizes());
  at::Tensor xd = CpuDouble(x);
  at::Tensor centred = xd - xd.mean(0, /*keepdim=*/true);  // Better conditioned Gram.
  at::Tensor gram = torch::mm(centred, centred.t());
  at::Tensor norms = gram.diagonal();
  at::Tensor sq = (norms.unsqueeze(0) + norms.unsqueeze(1) - 2 * gram).clamp_min(0);
  sq.fill_diagonal_(0);
  return torch::sqrt(sq);
}

DistanceSummary SummarizeDistances(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(0) >= 2, "distance summary needs x [N >= 2, D], got ",
              x.sizes());
  const int64_t n = x.size(0);
  at::Tensor dist = PairwiseDistances(x);
  at::Tensor upper = torch::triu_indices(n, n, /*offset=*/1);
  at::Tensor pairs = dist.index({upper[0], upper[1]});
  DistanceSummary s;
  s.mean = pairs.mean().item<double>();
  s.std = pairs.std(/*unbiased=*/false).item<double>();
  s.min = pairs.min().item<double>();
  s.max = pairs.max().item<double>();
  at::Tensor masked = dist + torch::diag(torch::full({n}, INFINITY, dist.options()));
  s.mean_nearest = std::get<0>(masked.min(1)).mean().item<double>();
  s.mean_norm = CpuDouble(x).norm(2, {1}).mean().item<double>();
  return s;
}

Pca PrincipalComponents(const at::Tensor& data, int64_t k) {
  TORCH_CHECK(data.dim() == 2 && data.size(0) >= 2, "PCA needs data [N >= 2, D], got ",
              data.sizes());
  const int64_t n = data.size(0);
  k = std::max<int64_t>(1, std::min({k, n, data.size(1)}));
  at::Tensor x = CpuDouble(data);
  Pca pca;
  pca.mean = x.mean(0);
  at::Tensor centred = x - pca.mean;
  auto [u, s, vh] = torch::linalg_svd(centred, /*full_matrices=*/false);
  at::Tensor components = vh.narrow(0, 0, k).clone();
  // Deterministic signs: the largest-magnitude entry of each component is positive.
  at::Tensor idx = components.abs().argmax(1, /*keepdim=*/true);
  at::Tensor sign = components.gather(1, idx).sign();
  sign.masked_fill_(sign.eq(0), 1);
  pca.components = components * sign;
  at::Tensor variance = s.pow(2) / static_cast<double>(n - 1);
  pca.explained_variance = variance.narrow(0, 0, k).clone();
  const double total = variance.sum().item<double>();
  pca.explained_ratio =
      total > 0 ? pca.explained_variance / total : torch::zeros_like(pca.explained_variance);
  pca.projections = torch::mm(centred, pca.components.t());
  return pca;
}

}  // namespace hnet::eval
