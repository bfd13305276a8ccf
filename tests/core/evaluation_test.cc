#include "core/evaluation.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/core/test_util.h"

namespace hnet::core {
namespace {

TEST(EnsembleRules, FollowTheirDefinitions) {
  // 3 members, 2 inputs, 3 classes.
  at::Tensor probs = torch::tensor({{{0.6, 0.3, 0.1}, {0.1, 0.5, 0.4}},
                                    {{0.4, 0.5, 0.1}, {0.2, 0.3, 0.5}},
                                    {{0.1, 0.45, 0.45}, {0.05, 0.05, 0.9}}},
                                   torch::kFloat64);
  EXPECT_TRUE(torch::equal(MajorityVote(probs), torch::tensor({1, 2}, torch::kLong)));
  // Means: input 0 (0.367, 0.417, 0.217) -> 1; input 1 (0.117, 0.283, 0.6) -> 2.
  EXPECT_TRUE(torch::equal(MeanProbability(probs), torch::tensor({1, 2}, torch::kLong)));
  // Most confident: input 0 member 0 (0.6) -> 0; input 1 member 2 (0.9) -> 2.
  EXPECT_TRUE(torch::equal(MostConfident(probs), torch::tensor({0, 2}, torch::kLong)));
  at::Tensor labels = torch::tensor({0, 2}, torch::kLong);
  EXPECT_DOUBLE_EQ(Accuracy(MostConfident(probs), labels), 1.0);
  const std::vector<double> acc = NetworkAccuracies(probs, labels);
  EXPECT_EQ(acc, (std::vector<double>{0.5, 0.5, 0.5}));
}

TEST(PredictProbabilities, ChunkingDoesNotChangeResults) {
  torch::manual_seed(41);
  const TargetLayout layout = testing::MnistLayout();
  constexpr int64_t kNetworks = 5;
  constexpr int64_t kImages = 70;
  WeightBatch w = testing::RandomWeights(layout, kNetworks);
  for (auto& t : w) t = t.to(torch::kFloat32);
  at::Tensor x = torch::rand({kImages, 1, 28, 28});
  at::Tensor whole = PredictProbabilities(layout, w, x, 100000);  // One pass.
  EXPECT_TRUE(torch::allclose(whole.sum(-1), torch::ones({kNetworks, kImages}), 1e-5, 1e-5));
  // Passes of chunk / 64 networks by 64 images, so the last image pass has 6 at offset 64;
  // with 128 and 192 (2 and 3 networks a pass) the last network pass is short too.
  for (const int64_t chunk : {64, 128, 192}) {
    at::Tensor chunked = PredictProbabilities(layout, w, x, chunk);
    EXPECT_TRUE(torch::allclose(whole, chunked, 1e-5, 1e-6)) << "chunk " << chunk;
  }
}

TEST(Summarize, ComputesMomentsAndRange) {
  const Summary s = Summarize({1.0, 2.0, 3.0, 4.0});
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 4.0);
  EXPECT_NEAR(s.std, std::sqrt(1.25), 1e-12);
}

}  // namespace
}  // namespace hnet::core
