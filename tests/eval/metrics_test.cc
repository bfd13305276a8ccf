#include "eval/metrics.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace hnet::eval {
namespace {

// Probabilities [M, 2] whose top class has confidence `conf` and is right in a fraction
// `conf` of the examples: a perfectly calibrated predictor.
std::pair<at::Tensor, at::Tensor> Calibrated(double conf, int64_t m) {
  at::Tensor probs = torch::tensor({conf, 1 - conf}, torch::kFloat64).repeat({m, 1});
  at::Tensor labels = torch::ones({m}, torch::kInt64);
  const int64_t right = static_cast<int64_t>(std::llround(conf * m));
  labels.narrow(0, 0, right).zero_();
  return {probs, labels};
}

TEST(CalibrationTest, PerfectlyCalibratedPredictorHasZeroEce) {
  auto [p1, l1] = Calibrated(0.8, 100);
  auto [p2, l2] = Calibrated(0.6, 50);
  at::Tensor probs = torch::cat({p1, p2});
  at::Tensor labels = torch::cat({l1, l2});
  EXPECT_NEAR(ExpectedCalibrationError(probs, labels, 15), 0.0, 1e-12);
}

TEST(CalibrationTest, OverconfidentPredictorEceIsTheGap) {
  // Always 0.9 confident, right half of the time: ECE = |0.5 - 0.9| = 0.4.
  at::Tensor probs = torch::tensor({0.9, 0.1}, torch::kFloat64).repeat({10, 1});
  at::Tensor labels = torch::tensor({0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, torch::kInt64);
  EXPECT_NEAR(ExpectedCalibrationError(probs, labels), 0.4, 1e-12);
  const auto bins = ReliabilityBins(probs, labels, 15);
  ASSERT_EQ(bins.size(), 15u);
  EXPECT_EQ(bins[13].count, 10);  // 0.9 * 15 = 13.5 -> bin 13.
  EXPECT_NEAR(bins[13].accuracy, 0.5, 1e-12);
  EXPECT_NEAR(bins[13].mean_confidence, 0.9, 1e-12);
  EXPECT_EQ(bins[0].count, 0);
}

TEST(CalibrationTest, ConfidenceOfOneFallsInTheLastBin) {
  at::Tensor probs = torch::tensor({{1.0, 0.0}}, torch::kFloat64);
  at::Tensor labels = torch::tensor({0}, torch::kInt64);
  const auto bins = ReliabilityBins(probs, labels, 10);
  EXPECT_EQ(bins[9].count, 1);
  EXPECT_NEAR(ExpectedCalibrationError(probs, labels, 10), 0.0, 1e-12);
}

TEST(CalibrationTest, NllAndBrierOfKnownPredictions) {
  at::Tensor probs = torch::tensor({{0.5, 0.5}, {0.25, 0.75}}, torch::kFloat64);
  at::Tensor labels = torch::tensor({0, 1}, torch::kInt64);
  EXPECT_NEAR(NegativeLogLikelihood(probs, labels), -(std::log(0.5) + std::log(0.75)) / 2, 1e-12);
  // (0.25 + 0.25 + 0.0625 + 0.0625) / 2.
  EXPECT_NEAR(BrierScore(probs, labels), 0.3125, 1e-12);
  at::Tensor perfect = torch::tensor({{1.0, 0.0}, {0.0, 1.0}}, torch::kFloat64);
  EXPECT_NEAR(NegativeLogLikelihood(perfect, labels), 0.0, 1e-12);
  EXPECT_NEAR(BrierScore(perfect, labels), 0.0, 1e-12);
}

TEST(CalibrationTest, MismatchedShapesAreRefused) {
  EXPECT_THROW(ExpectedCalibrationError(torch::rand({3, 2}), torch::zeros({4}, torch::kInt64)),
               c10::Error);
}

TEST(UncertaintyTest, EntropyOfUniformAndOneHot) {
  at::Tensor probs = torch::tensor({{0.25, 0.25, 0.25, 0.25}, {1.0, 0.0, 0.0, 0.0}});
  at::Tensor h = PredictiveEntropy(probs);
  EXPECT_NEAR(h[0].item<double>(), std::log(4.0), 1e-6);
  EXPECT_NEAR(h[1].item<double>(), 0.0, 1e-9);
}

TEST(UncertaintyTest, MutualInformationIsZeroForAgreeingMembersAndLog2ForOpposite) {
  at::Tensor same = torch::tensor({{0.7, 0.3}}).unsqueeze(0).repeat({5, 1, 1});  // [5, 1, 2]
  EXPECT_NEAR(MutualInformation(same)[0].item<double>(), 0.0, 1e-9);
  // Two confident members that disagree: mean is uniform (log 2), members have entropy 0.
  at::Tensor opposite = torch::tensor({{{1.0, 0.0}}, {{0.0, 1.0}}});
  EXPECT_NEAR(MutualInformation(opposite)[0].item<double>(), std::log(2.0), 1e-9);
}

TEST(OodTest, SeparableScoresHaveAurocAndAuprOne) {
  at::Tensor pos = torch::tensor({2.0, 3.0, 4.0});
  at::Tensor neg = torch::tensor({0.0, 1.0, 1.5, -1.0});
  EXPECT_DOUBLE_EQ(Auroc(pos, neg), 1.0);
  EXPECT_DOUBLE_EQ(Aupr(pos, neg), 1.0);
  EXPECT_DOUBLE_EQ(Auroc(neg, pos), 0.0);
}

TEST(OodTest, IdenticalScoresGiveChance) {
  at::Tensor pos = torch::ones({4});
  at::Tensor neg = torch::ones({12});
  EXPECT_DOUBLE_EQ(Auroc(pos, neg), 0.5);
  EXPECT_DOUBLE_EQ(Aupr(pos, neg), 0.25);  // The positives' share.
}

TEST(OodTest, KnownRankingGivesKnownAreas) {
  // Descending: p(3) n(2) p(1) n(0): pairs pos>neg: 3>2, 3>0, 1>0 = 3 of 4.
  at::Tensor pos = torch::tensor({3.0, 1.0});
  at::Tensor neg = torch::tensor({2.0, 0.0});
  EXPECT_DOUBLE_EQ(Auroc(pos, neg), 0.75);
  // Precision at the positives' ranks: 1/1 and 2/3.
  EXPECT_NEAR(Aupr(pos, neg), (1.0 + 2.0 / 3.0) / 2, 1e-12);
}

TEST(DisagreementTest, IdenticalMembersNeverDisagree) {
  at::Tensor member = torch::softmax(torch::randn({20, 10}), -1);
  at::Tensor probs = member.unsqueeze(0).repeat({4, 1, 1});
  at::Tensor labels = torch::randint(10, {20}, torch::kInt64);
  const Disagreement d = PairwiseDisagreement(probs, labels);
  EXPECT_DOUBLE_EQ(d.mean, 0.0);
  EXPECT_DOUBLE_EQ(d.normalized, 0.0);
  EXPECT_EQ(d.pairs, 6);
}

TEST(DisagreementTest, KnownPredictionsGiveKnownDisagreement) {
  // Three members on two images (labels 0, 0). Predictions: A=(0,0), B=(0,1), C=(1,1).
  // Pairs: AB differ on 1 of 2, AC on 2 of 2, BC on 1 of 2 -> mean (0.5 + 1 + 0.5) / 3.
  auto onehot = [](int a, int b) {
    return torch::one_hot(torch::tensor({a, b}, torch::kInt64), 2).to(torch::kFloat32);
  };
  at::Tensor probs = torch::stack({onehot(0, 0), onehot(0, 1), onehot(1, 1)});
  at::Tensor labels = torch::zeros({2}, torch::kInt64);
  const Disagreement d = PairwiseDisagreement(probs, labels);
  EXPECT_NEAR(d.mean, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(d.mean_error, 0.5, 1e-12);  // 3 wrong of 6.
  EXPECT_NEAR(d.normalized, 4.0 / 3.0, 1e-12);
}

TEST(DistanceTest, DistancesOfKnownPoints) {
  at::Tensor x = torch::tensor({{0.0, 0.0}, {3.0, 4.0}, {6.0, 8.0}});
  at::Tensor d = PairwiseDistances(x);
  EXPECT_NEAR(d[0][1].item<double>(), 5.0, 1e-9);
  EXPECT_NEAR(d[0][2].item<double>(), 10.0, 1e-9);
  EXPECT_NEAR(d[1][1].item<double>(), 0.0, 1e-12);
  const DistanceSummary s = SummarizeDistances(x);
  EXPECT_NEAR(s.mean, 20.0 / 3.0, 1e-9);
  EXPECT_NEAR(s.min, 5.0, 1e-9);
  EXPECT_NEAR(s.max, 10.0, 1e-9);
  EXPECT_NEAR(s.mean_nearest, 5.0, 1e-9);
  EXPECT_NEAR(s.mean_norm, 5.0, 1e-9);
}

TEST(PcaTest, DataOnALineHasOneComponent) {
  torch::manual_seed(3);
  at::Tensor t = torch::randn({50, 1}, torch::kFloat64);
  at::Tensor direction = torch::tensor({1.0, 2.0, -3.0}, torch::kFloat64) / std::sqrt(14.0);
  at::Tensor offset = torch::tensor({5.0, -1.0, 0.5}, torch::kFloat64);
  at::Tensor data = t * direction + offset;
  const Pca pca = PrincipalComponents(data, 3);
  EXPECT_NEAR(pca.explained_ratio[0].item<double>(), 1.0, 1e-9);
  EXPECT_NEAR(pca.explained_variance[1].item<double>(), 0.0, 1e-9);
  // First component is +-direction, sign fixed so the largest-magnitude entry is positive.
  EXPECT_TRUE(torch::allclose(pca.components[0], -direction, 1e-9, 1e-9)) << pca.components[0];
  EXPECT_TRUE(torch::allclose(pca.mean, offset + t.mean() * direction, 1e-9, 1e-9));
  // Projections onto the first component recover t up to sign and centring.
  at::Tensor centred = (t.squeeze(1) - t.mean());
  EXPECT_TRUE(torch::allclose(pca.projections.select(1, 0), -centred, 1e-9, 1e-9));
  EXPECT_NEAR(pca.explained_variance[0].item<double>(), t.var().item<double>(), 1e-9);
}

TEST(PcaTest, ComponentsAreOrthonormalAndKIsClamped) {
  at::Tensor data = torch::randn({4, 6}, torch::kFloat64);
  const Pca pca = PrincipalComponents(data, 10);
  ASSERT_EQ(pca.components.size(0), 4);
  at::Tensor gram = torch::mm(pca.components.narrow(0, 0, 3), pca.components.narrow(0, 0, 3).t());
  EXPECT_TRUE(torch::allclose(gram, torch::eye(3, torch::kFloat64), 1e-9, 1e-9));
  EXPECT_NEAR(pca.explained_ratio.sum().item<double>(), 1.0, 1e-9);
}

}  // namespace
}  // namespace hnet::eval
