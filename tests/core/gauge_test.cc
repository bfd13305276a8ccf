#include "core/gauge.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/core/test_util.h"

namespace hnet::core {
namespace {

// Random networks with filters at deliberately varied scales.
WeightBatch ScrambledWeights(const TargetLayout& layout, int64_t n) {
  WeightBatch w = testing::RandomWeights(layout, n);
  for (auto& layer : w) {
    layer = layer * torch::exp(0.5 * torch::randn({n, layer.size(1), 1}, torch::kFloat64));
  }
  return w;
}

TEST(GaugeFix, PreservesNetworkOutput) {
  torch::manual_seed(11);
  const TargetLayout layout = testing::MnistLayout();
  const WeightBatch w = ScrambledWeights(layout, 4);
  at::Tensor x = torch::rand({6, 1, 28, 28}, torch::kFloat64);
  at::Tensor before = torch::softmax(SharedForward(layout, w, x), -1);
  for (bool permutation : {false, true}) {
    const WeightBatch fixed = GaugeFix(layout, w, /*scale=*/true, permutation);
    at::Tensor after = torch::softmax(SharedForward(layout, fixed, x), -1);
    EXPECT_TRUE(torch::allclose(before, after, 1e-7, 1e-9)) << "permutation " << permutation;
  }
}

TEST(ScaleGauge, MeetsBothConstraints) {
  torch::manual_seed(12);
  const TargetLayout layout = testing::MnistLayout();
  // Unit-scale filters, so that the 1e-8 guard inside the sqrt is negligible.
  WeightBatch w;
  for (const LayerShape& layer : layout.layers()) {
    w.push_back(torch::randn({3, layer.filters, layer.filter_size()}, torch::kFloat64) *
                torch::exp(0.5 * torch::randn({3, layer.filters, 1}, torch::kFloat64)));
  }
  const WeightBatch fixed = ScaleGauge(layout, w);
  for (int64_t l = 0; l + 1 < layout.num_layers(); ++l) {
    at::Tensor norms = fixed[l].pow(2).sum(2);
    const double size = static_cast<double>(layout.layers()[l].filter_size());
    EXPECT_TRUE(torch::allclose(norms, torch::full_like(norms, size), 1e-6, 0))
        << l << " " << norms.min().item<double>() << " " << norms.max().item<double>();
  }
  at::Tensor bias_sum = fixed.back().select(2, layout.layers().back().fan_in()).sum(1);
  EXPECT_TRUE(torch::allclose(bias_sum, torch::zeros_like(bias_sum), 0, 1e-10));
}

TEST(ScaleGauge, MapsRescaledNetworksToTheSameRepresentative) {
  torch::manual_seed(13);
  const TargetLayout layout = testing::MnistLayout();
  const WeightBatch w = testing::RandomWeights(layout, 2);
  WeightBatch scaled = w;
  // Scale filter 3 of layer 0 by 5 and unscale its input channel in layer 1; shift logits.
  at::Tensor factor = torch::ones({1, 32, 1}, torch::kFloat64);
  factor[0][3][0] = 5.0;
  scaled[0] = w[0] * factor;
  at::Tensor next = w[1].clone();
  next.narrow(2, 3 * 25, 25).div_(5.0);
  scaled[1] = next;
  scaled[3] = w[3].clone();
  scaled[3].select(2, 8).add_(2.5);
  const WeightBatch a = ScaleGauge(layout, w);
  const WeightBatch b = ScaleGauge(layout, scaled);
  for (size_t l = 0; l < a.size(); ++l) EXPECT_TRUE(torch::allclose(a[l], b[l], 1e-4, 1e-6));
}

TEST(PermutationGauge, IsIdempotentAndSortsFilters) {
  torch::manual_seed(14);
  const TargetLayout layout = testing::MnistLayout();
  const WeightBatch once = GaugeFix(layout, ScrambledWeights(layout, 3), true, true);
  const WeightBatch twice = PermutationGauge(layout, once);
  for (size_t l = 0; l < once.size(); ++l) EXPECT_TRUE(torch::equal(once[l], twice[l]));
  for (int64_t l = 0; l + 1 < layout.num_layers(); ++l) {
    at::Tensor first = once[l].select(2, 0);  // Leading key column is non-decreasing.
    EXPECT_TRUE((first.narrow(1, 1, first.size(1) - 1) >= first.narrow(1, 0, first.size(1) - 1))
                    .all()
                    .item<bool>());
  }
}

TEST(PermutationGauge, MapsPermutedNetworksToTheSameRepresentative) {
  torch::manual_seed(15);
  const TargetLayout layout = testing::MnistLayout();
  const WeightBatch w = testing::RandomWeights(layout, 1);
  // Permute layer 2's 8 units and layer 3's matching input columns.
  at::Tensor perm = torch::randperm(8);
  WeightBatch permuted = w;
  permuted[2] = w[2].index_select(1, perm);
  at::Tensor cols = torch::cat({perm, torch::tensor({8}, torch::kLong)});
  permuted[3] = w[3].index_select(2, cols);
  const WeightBatch a = PermutationGauge(layout, w);
  const WeightBatch b = PermutationGauge(layout, permuted);
  for (size_t l = 0; l < a.size(); ++l) EXPECT_TRUE(torch::equal(a[l], b[l]));
}

TEST(GaugeFix, IsDifferentiable) {
  torch::manual_seed(16);
  const TargetLayout layout = testing::MnistLayout();
  WeightBatch w = testing::RandomWeights(layout, 2);
  for (auto& t : w) t.requires_grad_(true);
  FlattenWeights(GaugeFix(layout, w, true, true)).pow(3).sum().backward();
  for (const auto& t : w) {
    ASSERT_TRUE(t.grad().defined());
    EXPECT_TRUE(torch::isfinite(t.grad()).all().item<bool>());
  }
}

}  // namespace
}  // namespace hnet::core
