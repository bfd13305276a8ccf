#include "trainer/training_state.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/config.h"

namespace hnet::trainer {
namespace {

hnet::v1::TrainingConfig Schedule(int64_t steps, int64_t anneal_steps, double final_fraction) {
  hnet::v1::TrainingConfig config = core::WithDefaults(core::LoadConfig("mnist").value());
  config.set_steps(steps);
  config.mutable_optimizer()->set_learning_rate(1e-3);
  config.mutable_optimizer()->set_decay_per_step(0.999);
  config.mutable_optimizer()->set_anneal_steps(anneal_steps);
  config.mutable_optimizer()->set_anneal_final_fraction(final_fraction);
  return config;
}

TEST(LearningRateAt, ExponentialDecayWithoutWarmDown) {
  const auto config = Schedule(1000, 0, 0);
  EXPECT_DOUBLE_EQ(LearningRateAt(config, 0), 1e-3);
  EXPECT_NEAR(LearningRateAt(config, 500), 1e-3 * std::pow(0.999, 500), 1e-15);
  EXPECT_NEAR(LearningRateAt(config, 1000), 1e-3 * std::pow(0.999, 1000), 1e-15);
}

TEST(LearningRateAt, CosineWarmDownOverTheLastSteps) {
  const auto config = Schedule(1000, 200, 0.1);
  auto decayed = [](int64_t step) { return 1e-3 * std::pow(0.999, step); };
  EXPECT_NEAR(LearningRateAt(config, 800), decayed(800), 1e-15);        // Not started.
  EXPECT_NEAR(LearningRateAt(config, 900), decayed(900) * 0.55, 1e-15);  // Halfway.
  EXPECT_NEAR(LearningRateAt(config, 1000), decayed(1000) * 0.1, 1e-15);
  EXPECT_NEAR(LearningRateAt(config, 1200), decayed(1200) * 0.1, 1e-15);  // Held after the end.
  for (int64_t step = 801; step <= 1000; ++step) {
    EXPECT_LT(LearningRateAt(config, step), LearningRateAt(config, step - 1)) << step;
  }
}

TEST(LearningRateAt, WarmDownLongerThanTheRunStartsAtStepZero) {
  const auto config = Schedule(100, 400, 0);
  // At step 0 the ramp is already (400 - 100) / 400 of the way down.
  const double expected = 1e-3 * 0.5 * (1 + std::cos(M_PI * 300.0 / 400.0));
  EXPECT_NEAR(LearningRateAt(config, 0), expected, 1e-15);
  EXPECT_NEAR(LearningRateAt(config, 100), 0.0, 1e-15);
}

}  // namespace
}  // namespace hnet::trainer
