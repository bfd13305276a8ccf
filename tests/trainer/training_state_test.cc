#include "trainer/training_state.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/adam.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/rng.h"
#include "core/toy.h"

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

// The toy generator, its optimizer after `steps` updates and a checkpoint of both, for
// restoring into a fresh copy.
class RestoreCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hnet_restore_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    config_ = core::WithDefaults(core::LoadConfig("toy").value());
    torch::manual_seed(5);
    core::ToyGenerator saved = MakeGenerator();
    core::Adam adam = MakeAdam(saved);
    for (int i = 0; i < 3; ++i) adam.Step(1e-3);  // No gradients: only the step count moves.
    checkpoint_ = MakeCheckpoint(config_, 3, *saved, adam, core::MakeGenerator(1), {});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  core::ToyGenerator MakeGenerator() const {
    return core::ToyGenerator(
        std::vector<int>(config_.toy().hidden().begin(), config_.toy().hidden().end()));
  }
  static core::Adam MakeAdam(core::ToyGenerator& generator) {
    std::vector<std::pair<std::string, at::Tensor>> params;
    for (const auto& item : generator->named_parameters()) {
      params.emplace_back(item.key(), item.value());
    }
    return core::Adam(params, core::AdamOptions{});
  }
  hnet::v1::TensorProto* OptimizerTensor(hnet::v1::Checkpoint& ckpt, const std::string& name) {
    for (auto& named : *ckpt.mutable_optimizer_state()) {
      if (named.name() == name) return named.mutable_tensor();
    }
    ADD_FAILURE() << "no optimizer tensor " << name;
    return ckpt.mutable_optimizer_state(0)->mutable_tensor();
  }

  // Writes `ckpt`, restores it into a fresh generator and optimizer and, when that fails,
  // checks that neither changed.
  absl::StatusOr<hnet::v1::Checkpoint> Restore(const hnet::v1::Checkpoint& ckpt) {
    const std::string path = (dir_ / "toy.hnet").string();
    EXPECT_TRUE(core::WriteCheckpoint(path, ckpt).ok());
    torch::manual_seed(6);
    core::ToyGenerator generator = MakeGenerator();
    core::Adam adam = MakeAdam(generator);
    at::Generator rng = core::MakeGenerator(2);
    const at::Tensor before = generator->parameters()[0].clone();
    auto restored = RestoreCheckpoint(path, config_, *generator, adam, rng);
    if (!restored.ok()) {
      EXPECT_TRUE(torch::equal(before, generator->parameters()[0]));
      EXPECT_EQ(adam.steps(), 0);
      EXPECT_NE(restored.status().message().find(path), std::string::npos) << restored.status();
    } else {
      restored_steps_ = adam.steps();
    }
    return restored;
  }

  std::filesystem::path dir_;
  hnet::v1::TrainingConfig config_;
  hnet::v1::Checkpoint checkpoint_;
  int64_t restored_steps_ = -1;
};

TEST_F(RestoreCheckpointTest, RestoresTheOptimizerStepItSaved) {
  auto restored = Restore(checkpoint_);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->step(), 3);
  EXPECT_EQ(restored_steps_, 3);
}

TEST_F(RestoreCheckpointTest, RefusesAnOptimizerStepThatIsNotAnInteger) {
  // +inf as a float64 scalar: converting it to int64 throws inside LibTorch.
  *OptimizerTensor(checkpoint_, "step") =
      core::TensorToProto(torch::tensor(std::numeric_limits<double>::infinity(), torch::kFloat64));
  auto restored = Restore(checkpoint_);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  EXPECT_NE(restored.status().message().find("'step'"), std::string::npos) << restored.status();
}

TEST_F(RestoreCheckpointTest, RefusesAnIntegralFloatingPointOptimizerStep) {
  *OptimizerTensor(checkpoint_, "step") = core::TensorToProto(torch::tensor(3.0, torch::kFloat64));
  auto restored = Restore(checkpoint_);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  EXPECT_NE(restored.status().message().find("expected an integer"), std::string::npos)
      << restored.status();
}

TEST_F(RestoreCheckpointTest, RefusesANegativeOptimizerStep) {
  *OptimizerTensor(checkpoint_, "step") =
      core::TensorToProto(torch::tensor(int64_t{-3}, torch::kInt64));
  auto restored = Restore(checkpoint_);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  EXPECT_NE(restored.status().message().find("-3"), std::string::npos) << restored.status();
}

TEST_F(RestoreCheckpointTest, RefusesAnOptimizerStepOtherThanTheCheckpoints) {
  *OptimizerTensor(checkpoint_, "step") =
      core::TensorToProto(torch::tensor(int64_t{7}, torch::kInt64));
  auto restored = Restore(checkpoint_);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  EXPECT_NE(restored.status().message().find("7 steps"), std::string::npos) << restored.status();
}

TEST_F(RestoreCheckpointTest, RefusesNonFiniteOptimizerMomentsNamingThem) {
  const std::string name = checkpoint_.parameters(0).name() + ".v";
  hnet::v1::TensorProto* v = OptimizerTensor(checkpoint_, name);
  at::Tensor values = core::TensorFromProto(*v).value();
  values.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
  *v = core::TensorToProto(values);
  auto restored = Restore(checkpoint_);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  EXPECT_NE(restored.status().message().find(name), std::string::npos) << restored.status();
}

TEST_F(RestoreCheckpointTest, RefusesANegativeSecondMoment) {
  const std::string name = checkpoint_.parameters(0).name() + ".v";
  hnet::v1::TensorProto* v = OptimizerTensor(checkpoint_, name);
  at::Tensor values = core::TensorFromProto(*v).value();
  values.view(-1)[0] = -1.0f;
  *v = core::TensorToProto(values);
  auto restored = Restore(checkpoint_);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  EXPECT_NE(restored.status().message().find("negative"), std::string::npos) << restored.status();
}

TEST_F(RestoreCheckpointTest, RefusesARepeatedOptimizerTensor) {
  *checkpoint_.add_optimizer_state() = checkpoint_.optimizer_state(1);
  auto restored = Restore(checkpoint_);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  EXPECT_NE(restored.status().message().find("appears twice"), std::string::npos)
      << restored.status();
}

}  // namespace
}  // namespace hnet::trainer
