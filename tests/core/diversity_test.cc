#include "core/diversity.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace hnet::core {
namespace {

TEST(KozachenkoLeonenko, MatchesAnalyticEntropyOfUniformCube) {
  torch::manual_seed(21);
  at::Tensor x = torch::rand({3000, 2}, torch::kFloat64) * 2.0;  // Uniform [0, 2]^2: log 4.
  for (Metric metric : {Metric::kL2, Metric::kL1}) {
    const double h = KozachenkoLeonenkoEntropy(x, 2, metric, true).item<double>();
    EXPECT_NEAR(h, std::log(4.0), 0.08);
  }
}

TEST(KozachenkoLeonenko, MatchesAnalyticEntropyOfGaussian) {
  torch::manual_seed(22);
  const double sigma = 0.5;
  at::Tensor x = torch::randn({3000, 3}, torch::kFloat64) * sigma;
  const double analytic = 1.5 * std::log(2 * M_PI * M_E * sigma * sigma);
  for (Metric metric : {Metric::kL2, Metric::kL1}) {
    EXPECT_NEAR(KozachenkoLeonenkoEntropy(x, 3, metric, true).item<double>(), analytic, 0.1);
  }
}

TEST(KozachenkoLeonenko, GrowsWithSpreadByDTimesLogScale) {
  torch::manual_seed(23);
  at::Tensor x = torch::randn({64, 50}, torch::kFloat64);
  const double h1 = KozachenkoLeonenkoEntropy(x, 7, Metric::kL2).item<double>();
  const double h2 = KozachenkoLeonenkoEntropy(x * 3.0, 7, Metric::kL2).item<double>();
  EXPECT_NEAR(h2 - h1, 7 * std::log(3.0), 1e-6);
}

TEST(KozachenkoLeonenko, HasFiniteGradientsEvenForDuplicates) {
  at::Tensor x = torch::randn({8, 5}, torch::kFloat64);
  x[1] = x[0];
  x.requires_grad_(true);
  KozachenkoLeonenkoEntropy(x, 5, Metric::kL2).backward();
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>());
}

TEST(TotalVariance, SumsPerCoordinateVariances) {
  at::Tensor x = torch::tensor({{0.0, 1.0}, {2.0, 1.0}, {4.0, 4.0}}, torch::kFloat64);
  // var(0,2,4) = 8/3, var(1,1,4) = 2.
  EXPECT_NEAR(TotalVariance(x).item<double>(), 8.0 / 3.0 + 2.0, 1e-12);
}

TEST(Diversity, UsesZDimensionByDefault) {
  torch::manual_seed(24);
  at::Tensor x = torch::randn({16, 30}, torch::kFloat64);
  hnet::v1::DiversityConfig config;
  config.set_kind(hnet::v1::DiversityConfig::ENTROPY);
  EXPECT_NEAR(Diversity(config, x, 12).item<double>(),
              KozachenkoLeonenkoEntropy(x, 12, Metric::kL2).item<double>(), 1e-12);
  config.set_entropy_dim(4);
  config.set_metric(hnet::v1::DiversityConfig::L1);
  EXPECT_NEAR(Diversity(config, x, 12).item<double>(),
              KozachenkoLeonenkoEntropy(x, 4, Metric::kL1).item<double>(), 1e-12);
  config.set_kind(hnet::v1::DiversityConfig::VARIANCE);
  EXPECT_NEAR(Diversity(config, x, 12).item<double>(), TotalVariance(x).item<double>(), 1e-12);
}

}  // namespace
}  // namespace hnet::core
