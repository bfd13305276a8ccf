#include "trainer/baseline_trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>

#include "core/config.h"
#include "core/target_spec.h"
#include "core/weight_ensemble.h"

namespace hnet::trainer {
namespace {

core::TargetLayout Layout() { return core::TargetLayout::Create(core::MnistTargetSpec()).value(); }

class BaselineTrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hnet_baseline_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A short, seeded run on the first `subset` training images; no evaluation.
  static BaselineOptions Short(int64_t networks, int64_t subset, int64_t epochs) {
    BaselineOptions options;
    options.config = core::WithDefaults(core::LoadConfig("mnist").value());
    options.config.set_seed(1234);
    options.ensemble_size = networks;
    options.train_subset = subset;
    options.epochs = epochs;
    options.batch_size = 32;
    options.validate_every_epoch = false;
    options.final_test = false;
    return options;
  }

  std::filesystem::path dir_;
};

TEST_F(BaselineTrainerTest, ShortRunLearns) {
  // One network, 2 epochs over 5,000 images (312 steps of 32): far above chance (10 %).
  BaselineOptions options = Short(1, 5000, 2);
  options.validate_every_epoch = true;
  std::vector<double> ce;
  options.on_step = [&](const BaselineStepStats& s) { ce.push_back(s.cross_entropy); };
  auto result = TrainBaselines(options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->steps, 312);
  ASSERT_EQ(ce.size(), 312u);
  EXPECT_GT(ce.front(), 1.8);  // Chance level is log(10) = 2.3.
  ASSERT_EQ(result->epochs.size(), 2u);
  ASSERT_EQ(result->epochs.back().validation_accuracy.size(), 1u);
  EXPECT_GT(result->epochs.back().validation_accuracy[0], 0.8);
  EXPECT_LT(result->epochs.back().train_cross_entropy, result->epochs.front().train_cross_entropy);
  EXPECT_EQ(result->ensemble.weights.sizes(), (std::vector<int64_t>{1, 20018}));
}

TEST_F(BaselineTrainerTest, InitialisationIsHeUniformPerNetworkWithZeroBiases) {
  const core::TargetLayout layout = Layout();
  const core::WeightBatch w = InitialBaselineWeights(layout, 7, 0, 3);
  ASSERT_EQ(w.size(), 4u);
  for (size_t l = 0; l < w.size(); ++l) {
    const core::LayerShape& layer = layout.layers()[l];
    ASSERT_EQ(w[l].sizes(), (std::vector<int64_t>{3, layer.filters, layer.filter_size()}));
    const double bound = std::sqrt(6.0 / layer.fan_in());
    const at::Tensor weights = w[l].narrow(2, 0, layer.fan_in());
    EXPECT_LE(weights.abs().max().item<double>(), bound);
    EXPECT_GT(weights.abs().max().item<double>(), 0.9 * bound);
    // Uniform on +-bound: mean 0 and variance bound^2 / 3 (within 5 standard errors).
    const double n = static_cast<double>(weights.numel());
    EXPECT_NEAR(weights.mean().item<double>(), 0.0, 5 * bound / std::sqrt(3 * n)) << "layer " << l;
    EXPECT_NEAR(weights.pow(2).mean().item<double>(), bound * bound / 3,
                5 * bound * bound * std::sqrt(4.0 / 45 / n))
        << "layer " << l;
    EXPECT_TRUE(torch::equal(w[l].select(2, layer.fan_in()), torch::zeros({3, layer.filters})));
    for (int64_t a = 0; a < 3; ++a) {
      for (int64_t b = a + 1; b < 3; ++b) EXPECT_FALSE(torch::equal(w[l][a], w[l][b]));
    }
  }
  // Network i depends only on (seed, i): the same network alone or in another batch.
  const core::WeightBatch alone = InitialBaselineWeights(layout, 7, 1, 1);
  for (size_t l = 0; l < w.size(); ++l) EXPECT_TRUE(torch::equal(alone[l][0], w[l][1]));
  const core::WeightBatch other_seed = InitialBaselineWeights(layout, 8, 1, 1);
  EXPECT_FALSE(torch::equal(other_seed[0][0], w[0][1]));
}

TEST_F(BaselineTrainerTest, EachNetworkHasItsOwnMinibatchOrder) {
  std::vector<at::Generator> rngs;
  for (int64_t i = 0; i < 3; ++i) rngs.push_back(BaselineGenerator(5, i, 1));
  const at::Tensor first = NextEpochOrder(rngs, 1000);
  const at::Tensor second = NextEpochOrder(rngs, 1000);
  ASSERT_EQ(first.sizes(), (std::vector<int64_t>{3, 1000}));
  const at::Tensor all = torch::arange(1000, torch::kInt64);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(torch::equal(std::get<0>(first[i].sort()), all));  // A permutation.
    EXPECT_FALSE(torch::equal(first[i], second[i]));               // New order each epoch.
    for (int64_t j = i + 1; j < 3; ++j) EXPECT_FALSE(torch::equal(first[i], first[j]));
  }
}

TEST_F(BaselineTrainerTest, TrainedNetworksDifferFromEachOther) {
  auto result = TrainBaselines(Short(3, 640, 1));
  ASSERT_TRUE(result.ok()) << result.status();
  const at::Tensor w = result->ensemble.weights;
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{3, 20018}));
  for (int64_t a = 0; a < 3; ++a) {
    for (int64_t b = a + 1; b < 3; ++b) {
      EXPECT_GT((w[a] - w[b]).norm().item<double>(), 0.1 * w[a].norm().item<double>());
    }
  }
}

// 3 networks in one batched pass vs each network trained by itself with the same seed streams
// (first_network): same initialisation, minibatches, image shifts and Adam updates.
void ExpectBatchedEqualsAlone(const BaselineOptions& batched_options) {
  auto batched = TrainBaselines(batched_options);
  ASSERT_TRUE(batched.ok()) << batched.status();
  const at::Tensor initial = core::FlattenWeights(InitialBaselineWeights(Layout(), 1234, 0, 3));
  for (int64_t i = 0; i < 3; ++i) {
    BaselineOptions options = batched_options;
    options.ensemble_size = 1;
    options.first_network = i;
    auto alone = TrainBaselines(options);
    ASSERT_TRUE(alone.ok()) << alone.status();
    const at::Tensor a = alone->ensemble.weights[0];
    const at::Tensor b = batched->ensemble.weights[i];
    // Training moved the weights well beyond the tolerance, and both runs agree.
    EXPECT_GT((a - initial[i]).abs().max().item<double>(), 1e-2);
    EXPECT_TRUE(torch::allclose(a, b, /*rtol=*/1e-3, /*atol=*/1e-4))
        << "network " << i << ": max difference " << (a - b).abs().max().item<double>();
  }
}

TEST_F(BaselineTrainerTest, BatchedTrainingEqualsTrainingEachNetworkAlone) {
  ExpectBatchedEqualsAlone(Short(3, 320, 2));  // 20 steps.
}

TEST_F(BaselineTrainerTest, BatchedTrainingWithShiftsEqualsTrainingEachNetworkAlone) {
  BaselineOptions options = Short(3, 320, 2);
  options.config.mutable_data()->set_max_shift(2);
  ExpectBatchedEqualsAlone(options);
}

TEST_F(BaselineTrainerTest, ShiftAugmentationIsSeededAndChangesTraining) {
  BaselineOptions plain = Short(2, 320, 1);
  BaselineOptions shifted = plain;
  shifted.config.mutable_data()->set_max_shift(2);
  auto a = TrainBaselines(shifted);
  auto b = TrainBaselines(shifted);
  auto c = TrainBaselines(plain);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(torch::equal(a->ensemble.weights, b->ensemble.weights));
  EXPECT_GT((a->ensemble.weights - c->ensemble.weights).abs().max().item<double>(), 1e-3);
  EXPECT_EQ(a->ensemble.config.data().max_shift(), 2);
  EXPECT_NE(a->ensemble.description.find("shifted by up to 2 px"), std::string::npos)
      << a->ensemble.description;
  EXPECT_EQ(c->ensemble.description.find("shifted"), std::string::npos);
}

TEST_F(BaselineTrainerTest, OutputLoadsAsWeightEnsemble) {
  BaselineOptions options = Short(2, 256, 1);
  options.out_path = (dir_ / "baseline-2.hnetw").string();
  auto result = TrainBaselines(options);
  ASSERT_TRUE(result.ok()) << result.status();
  auto loaded = core::LoadWeightEnsemble(options.out_path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(torch::equal(loaded->weights, result->ensemble.weights));
  EXPECT_EQ(loaded->spec.SerializeAsString(), options.config.target().SerializeAsString());
  EXPECT_NE(loaded->description.find("deep ensemble: 2 conventionally trained networks"),
            std::string::npos)
      << loaded->description;
  EXPECT_EQ(loaded->config.batch_networks(), 2);
  EXPECT_EQ(loaded->config.images_per_network(), 32);
  EXPECT_EQ(loaded->config.steps(), 8);
  EXPECT_FALSE(loaded->config.has_hypernet());
}

TEST_F(BaselineTrainerTest, StopRequestWritesTheNetworksSoFar) {
  BaselineOptions options = Short(2, 640, 3);
  options.out_path = (dir_ / "stopped.hnetw").string();
  options.validate_every_epoch = true;  // Skipped for the interrupted epoch.
  std::atomic<bool> stop{false};
  options.stop = &stop;
  options.on_step = [&](const BaselineStepStats& s) {
    if (s.step == 5) stop.store(true);
  };
  auto result = TrainBaselines(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->interrupted);
  EXPECT_EQ(result->steps, 5);
  ASSERT_EQ(result->epochs.size(), 1u);
  EXPECT_TRUE(result->epochs[0].validation_accuracy.empty());
  auto loaded = core::LoadWeightEnsemble(options.out_path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_NE(loaded->description.find("interrupted after step 5 of 60"), std::string::npos)
      << loaded->description;
}

TEST_F(BaselineTrainerTest, RefusesBadOptionsNamingThem) {
  auto message = [](const BaselineOptions& o) {
    return std::string(ValidateBaselineOptions(o).message());
  };
  BaselineOptions options = Short(1, 0, 1);
  EXPECT_TRUE(ValidateBaselineOptions(options).ok());
  options.ensemble_size = 0;
  EXPECT_NE(message(options).find("ensemble_size"), std::string::npos);
  options = Short(1, 0, 1);
  options.learning_rate = -1;
  EXPECT_NE(message(options).find("learning_rate"), std::string::npos);
  options = Short(1, 0, 1);
  options.lr_decay_per_epoch = 1.5;
  EXPECT_NE(message(options).find("lr_decay_per_epoch"), std::string::npos);
  options = Short(1, 0, 0);
  EXPECT_NE(message(options).find("epochs"), std::string::npos);
  options = Short(1, 0, 1);
  options.config.mutable_target()->clear_layers();
  EXPECT_EQ(ValidateBaselineOptions(options).code(), absl::StatusCode::kInvalidArgument);
  // Checked once the data is loaded.
  options = Short(1, 16, 1);
  auto too_small = TrainBaselines(options);
  EXPECT_EQ(too_small.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_small.status().message().find("batch_size 32"), std::string::npos);
  options = Short(1, 1000000, 1);
  auto too_large = TrainBaselines(options);
  EXPECT_EQ(too_large.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_large.status().message().find("train_subset"), std::string::npos);
}

}  // namespace
}  // namespace hnet::trainer
