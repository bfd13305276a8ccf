#include "trainer/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <limits>

#include "core/checkpoint.h"
#include "core/config.h"

namespace hnet::trainer {
namespace {

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::set_num_threads(2);
    dir_ = std::filesystem::temp_directory_path() /
           ("hnet_trainer_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The paper's model with a smaller batch so the tests stay fast.
  static hnet::v1::TrainingConfig SmallMnist(int64_t steps) {
    hnet::v1::TrainingConfig config = core::LoadConfig("mnist").value();
    config.set_steps(steps);
    config.set_batch_networks(8);
    config.set_images_per_network(16);
    config.mutable_eval()->set_every_steps(0);
    config.mutable_eval()->set_checkpoint_every(0);
    config.mutable_eval()->set_networks(20);
    config.mutable_optimizer()->set_learning_rate(1e-3);
    return core::WithDefaults(config);
  }

  std::filesystem::path dir_;
};

TEST_F(TrainerTest, ShortMnistRunClearlyLearns) {
  // The paper's settings for 300 steps (about 2 minutes on 2 cores): the networks start at
  // chance and escape it after ~100 steps.
  TrainerOptions options;
  options.config = core::WithDefaults(core::LoadConfig("mnist").value());
  options.config.set_steps(300);
  options.config.mutable_eval()->set_every_steps(300);
  options.config.mutable_eval()->set_checkpoint_every(0);
  options.config.mutable_eval()->set_networks(20);
  options.out_path = (dir_ / "short.hnet").string();
  options.final_test = false;
  std::vector<double> ce;
  options.on_step = [&](const StepStats& s) { ce.push_back(s.cross_entropy); };
  auto result = Train(options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(ce.size(), 300u);
  EXPECT_GT(ce.front(), 2.0);  // Chance level is log(10) = 2.3.
  EXPECT_LT(ce.back(), 1.0);
  // Generated networks are far above chance (10 %) on held-out validation images.
  EXPECT_GT(result->validation.mean_accuracy(), 0.5) << result->validation.DebugString();
  EXPECT_GT(result->validation.majority_vote_accuracy(), 0.5);
  auto ckpt = core::ReadCheckpoint(options.out_path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->step(), 300);
  EXPECT_EQ(ckpt->last_validation().mean_accuracy(), result->validation.mean_accuracy());
}

TEST_F(TrainerTest, ResumeReproducesUninterruptedRun) {
  const std::string full_path = (dir_ / "full.hnet").string();
  const std::string half_path = (dir_ / "half.hnet").string();
  std::vector<double> full, resumed;

  TrainerOptions options;
  options.config = SmallMnist(8);
  // Augmentation and the warm-down too: their random draws and step-dependent learning rate
  // must survive the checkpoint.
  options.config.mutable_data()->set_max_shift(2);
  options.config.mutable_optimizer()->set_anneal_steps(6);
  options.config.mutable_optimizer()->set_anneal_final_fraction(0.1);
  options.out_path = full_path;
  options.final_test = false;
  options.on_step = [&](const StepStats& s) { full.push_back(s.loss); };
  ASSERT_TRUE(Train(options).ok());

  std::atomic<bool> stop{false};
  options.out_path = half_path;
  options.stop = &stop;
  options.on_step = [&](const StepStats& s) {
    if (s.step == 4) stop = true;  // As SIGINT would.
  };
  auto first = Train(options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->interrupted);
  EXPECT_EQ(first->step, 4);

  stop = false;
  options.resume_path = half_path;
  options.on_step = [&](const StepStats& s) { resumed.push_back(s.loss); };
  auto second = Train(options);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(full.size(), 8u);
  ASSERT_EQ(resumed.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(resumed[i], full[4 + i], 1e-4 * std::abs(full[4 + i]));

  auto a = core::ReadCheckpoint(full_path);
  auto b = core::ReadCheckpoint(half_path);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->step(), b->step());
  for (int i = 0; i < a->parameters_size(); ++i) {
    auto ta = core::TensorFromProto(a->parameters(i).tensor()).value();
    auto tb = core::TensorFromProto(b->parameters(i).tensor()).value();
    EXPECT_TRUE(torch::allclose(ta, tb, 1e-4, 1e-6)) << a->parameters(i).name();
  }
}

TEST_F(TrainerTest, ResumeRefusesADifferentModel) {
  TrainerOptions options;
  options.config = SmallMnist(1);
  options.out_path = (dir_ / "a.hnet").string();
  options.final_test = false;
  ASSERT_TRUE(Train(options).ok());
  options.resume_path = options.out_path;
  options.config.mutable_hypernet()->set_code_size(16);
  auto result = Train(options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition) << result.status();
}

TEST_F(TrainerTest, ResumeRefusesAnOptimizerStepThatIsNotAnIntegerWithoutAborting) {
  TrainerOptions options;
  options.config = SmallMnist(1);
  options.out_path = (dir_ / "a.hnet").string();
  options.final_test = false;
  ASSERT_TRUE(Train(options).ok());
  auto ckpt = core::ReadCheckpoint(options.out_path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  bool replaced = false;
  for (auto& named : *ckpt->mutable_optimizer_state()) {
    if (named.name() != "step") continue;
    *named.mutable_tensor() = core::TensorToProto(
        torch::tensor(std::numeric_limits<double>::infinity(), torch::kFloat64));
    replaced = true;
  }
  ASSERT_TRUE(replaced);
  ASSERT_TRUE(core::WriteCheckpoint(options.out_path, *ckpt).ok());
  options.config = SmallMnist(2);
  options.resume_path = options.out_path;
  auto result = Train(options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss) << result.status();
  EXPECT_NE(result.status().message().find(options.out_path), std::string::npos) << result.status();
}

TEST_F(TrainerTest, MissingDataNamesTheFileAndTheFix) {
  TrainerOptions options;
  options.config = SmallMnist(1);
  options.data_dir = (dir_ / "nowhere").string();
  auto result = Train(options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("train-images-idx3-ubyte"), std::string::npos)
      << result.status();
  EXPECT_NE(result.status().message().find("fetch_data.sh"), std::string::npos);
}

TEST_F(TrainerTest, ToyRunWritesAResumableCheckpoint) {
  TrainerOptions options;
  options.config = core::WithDefaults(core::LoadConfig("toy").value());
  options.config.set_steps(200);
  options.out_path = (dir_ / "toy.hnet").string();
  auto result = Train(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->step, 200);
  options.config.set_steps(300);
  options.resume_path = options.out_path;
  auto resumed = Train(options);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->step, 300);
}

TEST_F(TrainerTest, ToyRunStopsOnANonFiniteLossLeavingOnlyFiniteCheckpoints) {
  TrainerOptions options;
  options.config = core::WithDefaults(core::LoadConfig("toy").value());
  options.config.set_steps(50);
  options.config.mutable_optimizer()->set_learning_rate(1e30);
  options.config.mutable_eval()->set_checkpoint_every(1);
  options.out_path = (dir_ / "toy.hnet").string();
  auto result = Train(options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(result.status().message().find("toy loss became"), std::string::npos)
      << result.status();
  // A checkpoint written before the loss blew up holds finite tensors only
  // (ReadNamedTensors refuses NaN and infinity).
  if (std::filesystem::exists(options.out_path)) {
    auto ckpt = core::ReadCheckpoint(options.out_path);
    ASSERT_TRUE(ckpt.ok()) << ckpt.status();
    EXPECT_LT(ckpt->step(), 50);
    for (const auto* tensors : {&ckpt->parameters(), &ckpt->buffers(), &ckpt->optimizer_state()}) {
      const absl::Status finite = core::ReadNamedTensors(*tensors).status();
      EXPECT_TRUE(finite.ok()) << finite;
    }
  }
}

}  // namespace
}  // namespace hnet::trainer
