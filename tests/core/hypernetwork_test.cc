#include "core/hypernetwork.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/rng.h"
#include "tests/core/test_util.h"

namespace hnet::core {
namespace {

TEST(HyperNetwork, HasThePapersParameterCounts) {
  const auto config = testing::MnistConfig();
  HyperNetwork model(testing::MnistLayout(), config.hypernet());
  int64_t linear = 0, norm = 0;
  for (const auto& item : model->named_parameters()) {
    (item.key().find("norms") != std::string::npos ? norm : linear) += item.value().numel();
  }
  EXPECT_EQ(linear, 631240);  // Table 2.
  EXPECT_EQ(norm, 2400);      // Batch-norm offsets and scales.
  EXPECT_EQ(CountParameters(*model), 633640);
}

TEST(HyperNetwork, GeneratesOneWeightTensorPerLayer) {
  torch::manual_seed(5);
  const auto config = testing::MnistConfig();
  const TargetLayout layout = testing::MnistLayout();
  HyperNetwork model(layout, config.hypernet());
  at::Generator gen = MakeGenerator(1);
  at::Tensor z = model->SampleZ(4, gen);
  EXPECT_LE(z.max().item<double>(), 1.0);
  EXPECT_GE(z.min().item<double>(), -1.0);
  WeightBatch w = model->forward(z);
  EXPECT_TRUE(CheckWeightBatch(layout, w).ok());
  // Different z give different networks; all weights receive gradients.
  EXPECT_FALSE(torch::allclose(w[1][0], w[1][1]));
  FlattenWeights(w).pow(2).sum().backward();
  for (const auto& p : model->parameters()) {
    ASSERT_TRUE(p.grad().defined());
  }
}

TEST(HyperNetwork, InitialisesWithReferenceVarianceScaling) {
  torch::manual_seed(6);
  const auto config = testing::MnistConfig();
  HyperNetwork model(testing::MnistLayout(), config.hypernet());
  for (const auto& item : model->named_parameters()) {
    if (item.key().find("linears") == std::string::npos) continue;
    const at::Tensor& w = item.value();
    const double expected = std::sqrt(0.01 / static_cast<double>(w.size(1)));
    EXPECT_NEAR(w.std().item<double>(), expected, 0.1 * expected) << item.key();
  }
}

TEST(HyperNetwork, EvalModeIsDeterministicPerZ) {
  torch::manual_seed(7);
  const auto config = testing::MnistConfig();
  HyperNetwork model(testing::MnistLayout(), config.hypernet());
  model->eval();
  at::Generator gen = MakeGenerator(3);
  at::Tensor z = model->SampleZ(3, gen);
  WeightBatch all = model->forward(z);
  WeightBatch one = model->forward(z.narrow(0, 1, 1));
  EXPECT_TRUE(torch::allclose(all[1][1], one[1][0], 1e-5, 1e-6));
}

TEST(HyperNetwork, SampledRowsDoNotDependOnHowManyAreDrawn) {
  auto config = testing::MnistConfig();
  for (auto distribution : {hnet::v1::HyperNetConfig::NORMAL, hnet::v1::HyperNetConfig::UNIFORM}) {
    config.mutable_hypernet()->set_z_distribution(distribution);
    config.mutable_hypernet()->set_z_dim(7);  // 7 * n is rarely a multiple of 16.
    HyperNetwork model(testing::MnistLayout(), config.hypernet());
    const at::Tensor many = model->SampleZ(10, MakeGenerator(11));
    ASSERT_EQ(many.sizes(), (std::vector<int64_t>{10, 7}));
    for (int64_t n : {1, 2, 3, 9}) {
      const at::Tensor few = model->SampleZ(n, MakeGenerator(11));
      EXPECT_TRUE(torch::equal(few, many.narrow(0, 0, n))) << "n = " << n << ", " << distribution;
    }
  }
}

// StreamWeights draws a seed's z 64 rows at a time from one generator.
TEST(HyperNetwork, ChunksOf64RowsFromOneGeneratorEqualOneDraw) {
  auto config = testing::MnistConfig();
  for (auto distribution : {hnet::v1::HyperNetConfig::NORMAL, hnet::v1::HyperNetConfig::UNIFORM}) {
    config.mutable_hypernet()->set_z_distribution(distribution);
    config.mutable_hypernet()->set_z_dim(7);
    HyperNetwork model(testing::MnistLayout(), config.hypernet());
    const at::Tensor all = model->SampleZ(150, MakeGenerator(5));
    at::Generator generator = MakeGenerator(5);
    for (int64_t begin = 0; begin < 150; begin += 64) {
      const int64_t rows = std::min<int64_t>(64, 150 - begin);
      EXPECT_TRUE(torch::equal(model->SampleZ(rows, generator), all.narrow(0, begin, rows)))
          << "rows from " << begin << ", " << distribution;
    }
  }
}

}  // namespace
}  // namespace hnet::core
