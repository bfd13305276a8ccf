#include "core/diversity.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace hnet::core {
namespace {

constexpr double kGuard = 1e-8;  // The reference's guard inside sqrt and log.

double Digamma(double x) {
  return torch::digamma(torch::tensor(x, torch::kFloat64)).item<double>();
}

// log of the volume of the unit ball in d dimensions: L2 pi^(d/2)/Gamma(d/2+1), L1 2^d/d!.
double LogUnitBallVolume(int64_t d, Metric metric) {
  const double dd = static_cast<double>(d);
  if (metric == Metric::kL2) return 0.5 * dd * std::log(M_PI) - std::lgamma(0.5 * dd + 1.0);
  return dd * std::log(2.0) - std::lgamma(dd + 1.0);
}

// Distances [N, N] between rows, with +inf on the diagonal.
at::Tensor PairwiseDistances(const at::Tensor& x, Metric metric) {
  const int64_t n = x.size(0);
  at::Tensor dist;
  if (metric == Metric::kL2) {
    // Squared distances by the Gram expansion, in float64 so that close neighbours in a
    // high-dimensional space keep their precision; the guard keeps sqrt's gradient finite.
    at::Tensor xd = x.to(torch::kFloat64);
    at::Tensor gram = torch::mm(xd, xd.t());
    at::Tensor norms = gram.diagonal();
    at::Tensor sq = (norms.unsqueeze(0) + norms.unsqueeze(1) - 2 * gram).clamp_min(0);
    dist = torch::sqrt(sq + kGuard).to(x.scalar_type());
  } else {
    dist = torch::cdist(x.unsqueeze(0), x.unsqueeze(0), /*p=*/1.0).squeeze(0);
  }
  at::Tensor eye = torch::eye(n, x.options().dtype(torch::kBool));
  return dist.masked_fill(eye, std::numeric_limits<double>::infinity());
}

}  // namespace

at::Tensor KozachenkoLeonenkoEntropy(const at::Tensor& samples, int64_t d, Metric metric,
                                     bool with_constants) {
  TORCH_CHECK(samples.dim() == 2 && samples.size(0) >= 2,
              "entropy needs samples [N >= 2, D], got ", samples.sizes());
  const int64_t n = samples.size(0);
  at::Tensor nearest = std::get<0>(PairwiseDistances(samples, metric).min(1));
  at::Tensor h = static_cast<double>(d) * torch::log(nearest + kGuard).mean() + Digamma(n);
  if (with_constants) h = h - Digamma(1.0) + LogUnitBallVolume(d, metric);
  return h;
}

at::Tensor TotalVariance(const at::Tensor& samples) {
  return samples.var(/*dim=*/0, /*unbiased=*/false).sum();
}

at::Tensor Diversity(const hnet::v1::DiversityConfig& config, const at::Tensor& samples,
                     int64_t z_dim) {
  const Metric metric =
      config.metric() == hnet::v1::DiversityConfig::L1 ? Metric::kL1 : Metric::kL2;
  switch (config.kind()) {
    case hnet::v1::DiversityConfig::VARIANCE:
      return TotalVariance(samples);
    case hnet::v1::DiversityConfig::NONE:
      return torch::zeros({}, samples.options());
    default:
      return KozachenkoLeonenkoEntropy(
          samples, config.entropy_dim() > 0 ? config.entropy_dim() : z_dim, metric);
  }
}

}  // namespace hnet::core
