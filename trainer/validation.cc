#include "trainer/validation.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/diversity.h"
#include "core/evaluation.h"
#include "core/gauge.h"
#include "core/rng.h"

namespace hnet::trainer {
namespace {

std::string TextHistogram(const std::vector<double>& values, int bins) {
  const core::Summary s = core::Summarize(values);
  const double lo = s.min;
  const double width = std::max(1e-9, (s.max - lo) / bins);
  std::vector<int> counts(bins, 0);
  for (double v : values) {
    counts[std::min(bins - 1, static_cast<int>((v - lo) / width))]++;
  }
  const int peak = *std::max_element(counts.begin(), counts.end());
  std::string out;
  for (int b = 0; b < bins; ++b) {
    const int len = peak > 0 ? counts[b] * 40 / peak : 0;
    absl::StrAppendFormat(&out, "  %6.2f%% - %6.2f%% |%-40s| %d\n", 100 * (lo + b * width),
                          100 * (lo + (b + 1) * width), std::string(len, '#'), counts[b]);
  }
  return out;
}

}  // namespace

hnet::v1::ValidationMetrics Validate(core::HyperNetworkImpl& model, const core::Split& split,
                                     const hnet::v1::DiversityConfig& diversity, int64_t networks,
                                     uint64_t seed, std::string* histogram) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  at::Generator generator = core::MakeGenerator(seed);
  const torch::Device device = model.parameters().front().device();
  at::Tensor z = model.SampleZ(networks, generator).to(device);
  core::WeightBatch weights = model.forward(z);
  model.train(was_training);

  const core::TargetLayout& layout = model.layout();
  at::Tensor probs = core::PredictProbabilities(layout, weights, split.images);
  const std::vector<double> accuracies = core::NetworkAccuracies(probs, split.labels);
  const core::Summary summary = core::Summarize(accuracies);

  hnet::v1::ValidationMetrics m;
  m.set_networks(static_cast<int32_t>(networks));
  m.set_mean_accuracy(summary.mean);
  m.set_min_accuracy(summary.min);
  m.set_max_accuracy(summary.max);
  m.set_std_accuracy(summary.std);
  m.set_majority_vote_accuracy(core::Accuracy(core::MajorityVote(probs), split.labels));
  m.set_mean_probability_accuracy(core::Accuracy(core::MeanProbability(probs), split.labels));
  m.set_most_confident_accuracy(core::Accuracy(core::MostConfident(probs), split.labels));
  at::Tensor labels = split.labels.unsqueeze(0).expand({networks, split.size()});
  m.set_cross_entropy(
      torch::nll_loss(torch::log(probs.clamp_min(1e-12)).reshape({-1, probs.size(2)}),
                      labels.reshape({-1}))
          .item<double>());
  if (networks >= 2) {
    // Always the entropy estimate of scale-gauge-fixed weights, whatever the training's
    // diversity term, so that reports of runs with other terms (or none) stay comparable.
    hnet::v1::DiversityConfig estimate = diversity;
    estimate.set_kind(hnet::v1::DiversityConfig::ENTROPY);
    core::WeightBatch fixed =
        core::GaugeFix(layout, weights, /*scale=*/true, diversity.permutation_gauge());
    m.set_entropy(
        core::Diversity(estimate, core::FlattenWeights(fixed), model.z_dim()).item<double>());
  }
  if (histogram != nullptr) *histogram = TextHistogram(accuracies, 10);
  return m;
}

std::string FormatMetrics(const hnet::v1::ValidationMetrics& m) {
  return absl::StrFormat(
      "%d networks: mean %.2f%% (min %.2f, max %.2f, sd %.2f) | ensembles: majority vote "
      "%.2f%%, mean probability %.2f%%, most confident %.2f%% | entropy %.1f",
      m.networks(), 100 * m.mean_accuracy(), 100 * m.min_accuracy(), 100 * m.max_accuracy(),
      100 * m.std_accuracy(), 100 * m.majority_vote_accuracy(), 100 * m.mean_probability_accuracy(),
      100 * m.most_confident_accuracy(), m.entropy());
}

}  // namespace hnet::trainer
