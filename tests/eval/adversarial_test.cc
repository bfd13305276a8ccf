#include "eval/adversarial.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/rng.h"
#include "core/target_forward.h"

namespace hnet::eval {
namespace {

// A linear classifier on 2x2 single-channel images: dense 3 (logits).
core::TargetLayout LinearLayout() {
  hnet::v1::TargetSpec spec;
  spec.set_name("linear");
  spec.set_input_channels(1);
  spec.set_input_height(2);
  spec.set_input_width(2);
  spec.add_layers()->mutable_dense()->set_units(3);
  return core::TargetLayout::Create(spec).value();
}

TEST(AdversarialTest, PaperEpsilonsAreZeroToFiftyEightIn255ths) {
  const std::vector<double> eps = PaperEpsilons();
  ASSERT_EQ(eps.size(), 30u);
  EXPECT_DOUBLE_EQ(eps.front(), 0.0);
  EXPECT_DOUBLE_EQ(eps[1], 2.0 / 255);
  EXPECT_DOUBLE_EQ(eps.back(), 58.0 / 255);
}

TEST(AdversarialTest, RandomTargetsDifferFromLabelsAndCoverOtherClasses) {
  at::Generator gen = core::MakeGenerator(5);
  at::Tensor labels = torch::arange(10, torch::kInt64).repeat({100});
  at::Tensor targets = RandomTargets(labels, 10, gen);
  EXPECT_FALSE(targets.eq(labels).any().item<bool>());
  EXPECT_TRUE(targets.ge(0).all().item<bool>() && targets.lt(10).all().item<bool>());
  EXPECT_EQ(std::get<0>(at::_unique(targets)).numel(), 10);
}

TEST(AdversarialTest, SmallTargetedStepRaisesTheTargetProbability) {
  torch::manual_seed(1);
  const core::TargetLayout layout = LinearLayout();
  core::WeightBatch weights = {torch::randn({1, 3, 5})};
  at::Tensor x = torch::rand({16, 1, 2, 2});
  at::Tensor targets = torch::randint(3, {16}, torch::kInt64);
  at::Tensor sign = TargetedGradientSign(layout, weights, x, targets, /*images_per_pass=*/5);
  ASSERT_EQ(sign.sizes(), x.sizes());
  auto target_prob = [&](const at::Tensor& images) {
    at::Tensor p = torch::softmax(core::SharedForward(layout, weights, images)[0], -1);
    return p.gather(1, targets.unsqueeze(1)).squeeze(1);
  };
  at::Tensor before = target_prob(x);
  at::Tensor after = target_prob(x - 1e-3 * sign);
  // Per image: the first-order change is -eps * |grad|_1 < 0 for the loss, so p rises.
  EXPECT_TRUE(after.ge(before).all().item<bool>()) << before << after;
  EXPECT_TRUE(after.gt(before).any().item<bool>());
}

TEST(AdversarialTest, EnsembleOfIdenticalMembersHasTheSingleGradientSign) {
  torch::manual_seed(2);
  const core::TargetLayout layout = LinearLayout();
  at::Tensor w = torch::randn({1, 3, 5});
  at::Tensor x = torch::rand({8, 1, 2, 2});
  at::Tensor targets = torch::randint(3, {8}, torch::kInt64);
  at::Tensor single = TargetedGradientSign(layout, {w}, x, targets);
  at::Tensor ensemble = TargetedGradientSign(layout, {w.repeat({4, 1, 1})}, x, targets);
  EXPECT_TRUE(torch::equal(single, ensemble));
}

TEST(AdversarialTest, ZeroPerturbationDoesNotFoolACorrectClassifier) {
  torch::manual_seed(3);
  const core::TargetLayout layout = LinearLayout();
  core::WeightBatch weights = {torch::randn({1, 3, 5})};
  at::Tensor x = torch::rand({32, 1, 2, 2});
  at::Tensor labels = core::SharedForward(layout, weights, x)[0].argmax(-1);  // All correct.
  at::Generator gen = core::MakeGenerator(1);
  at::Tensor targets = RandomTargets(labels, 3, gen);
  at::Tensor sign = TargetedGradientSign(layout, weights, x, targets);
  const AttackCurve curve =
      EvaluateAttack(layout, weights, x, sign, labels, targets, {0.0, 0.5, 50.0});
  ASSERT_EQ(curve.targeted_success.size(), 3u);
  EXPECT_DOUBLE_EQ(curve.untargeted_success[0], 0.0);
  EXPECT_DOUBLE_EQ(curve.targeted_success[0], 0.0);
  // A huge step along the target's gradient sign fools a linear model on most images.
  EXPECT_GT(curve.targeted_success[2], 0.5);
}

}  // namespace
}  // namespace hnet::eval
