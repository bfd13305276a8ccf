#include "core/hypernetwork_loader.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <string>

#include "core/checkpoint.h"
#include "core/rng.h"
#include "tests/core/test_util.h"
#include "tests/memory_limit.h"

namespace hnet::core {
namespace {

hnet::v1::Checkpoint SmallCheckpoint(const hnet::v1::TrainingConfig& config,
                                     const TargetLayout& layout) {
  torch::manual_seed(3);
  HyperNetwork model(layout, config.hypernet());
  hnet::v1::Checkpoint ckpt;
  *ckpt.mutable_config() = config;
  SaveModule(*model, &ckpt);
  return ckpt;
}

TEST(HyperNetworkParameterCount, EqualsTheBuiltModulesCount) {
  const TargetLayout layout = testing::MnistLayout();
  hnet::v1::HyperNetConfig config = testing::MnistConfig().hypernet();
  EXPECT_EQ(HyperNetworkParameterCount(layout, config), 633640);
  config.clear_extractor_hidden();  // One linear layer.
  config.mutable_generators(2)->add_hidden(7);
  config.mutable_generators(3)->clear_hidden();
  config.set_code_size(9);
  config.set_z_dim(11);
  HyperNetwork model(layout, config);
  EXPECT_EQ(HyperNetworkParameterCount(layout, config), CountParameters(*model));
}

TEST(HyperNetworkParameterCount, UnbuildableOrOverflowingConfigsGiveMinusOne) {
  const TargetLayout layout = testing::MnistLayout();
  const hnet::v1::HyperNetConfig good = testing::MnistConfig().hypernet();
  hnet::v1::HyperNetConfig c = good;
  c.set_z_dim(0);
  EXPECT_EQ(HyperNetworkParameterCount(layout, c), -1);
  c = good;
  c.mutable_generators()->RemoveLast();
  EXPECT_EQ(HyperNetworkParameterCount(layout, c), -1);
  c = good;
  c.set_extractor_hidden(0, -5);
  EXPECT_EQ(HyperNetworkParameterCount(layout, c), -1);
  c = good;
  for (int i = 0; i < 8; ++i) c.add_extractor_hidden(2000000000);
  EXPECT_EQ(HyperNetworkParameterCount(layout, c), -1);
}

TEST(LoadHyperNetwork, LoadsWhatWasSavedInEvalMode) {
  const TargetLayout layout = testing::MnistLayout();
  const auto config = testing::MnistConfig();
  const hnet::v1::Checkpoint ckpt = SmallCheckpoint(config, layout);
  EXPECT_TRUE(CheckHyperNetworkConfig(ckpt, layout, "x.hnet").ok());
  auto loaded = LoadHyperNetwork(ckpt, layout, torch::kCPU, "x.hnet");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE((*loaded)->is_training());
  torch::manual_seed(3);
  HyperNetwork same(layout, config.hypernet());
  same->eval();
  at::Tensor z = same->SampleZ(3, MakeGenerator(2));
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(
      torch::equal(FlattenWeights((*loaded)->forward(z)), FlattenWeights(same->forward(z))));
}

TEST(LoadHyperNetwork, AConfigThatDisagreesWithTheTensorsIsRefusedBeforeAllocating) {
  const TargetLayout layout = testing::MnistLayout();
  hnet::v1::Checkpoint ckpt = SmallCheckpoint(testing::MnistConfig(), layout);
  // 300 x 2,000,000 + 2,000,000 x 2,000 floats: 18 GB if it were built.
  auto* hypernet = ckpt.mutable_config()->mutable_hypernet();
  hypernet->clear_extractor_hidden();
  hypernet->add_extractor_hidden(2000000);
  hypernet->add_extractor_hidden(2000);
  // Refused in a child that cannot allocate more than 256 MiB, so an attempt to build the
  // model fails there instead of passing slowly or exhausting the machine.
  EXPECT_TRUE(hnet::testing::RunWithMemoryHeadroom(256 << 20, [&] {
    auto loaded = LoadHyperNetwork(ckpt, layout, torch::kCPU, "huge.hnet");
    const std::string message(loaded.status().message());
    const bool ok = loaded.status().code() == absl::StatusCode::kDataLoss &&
                    message.find("huge.hnet") != std::string::npos &&
                    message.find("but the file stores 633640") != std::string::npos;
    if (!ok) std::fprintf(stderr, "unexpected: %s\n", loaded.status().ToString().c_str());
    return ok;
  }));

  hypernet->set_code_size(0);
  auto loaded = LoadHyperNetwork(ckpt, layout, torch::kCPU, "bad.hnet");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("cannot be built"), std::string::npos)
      << loaded.status();
}

TEST(LoadHyperNetwork, ATensorOfTheRightCountButWrongShapeIsDataLoss) {
  const TargetLayout layout = testing::MnistLayout();
  hnet::v1::Checkpoint ckpt = SmallCheckpoint(testing::MnistConfig(), layout);
  // Swaps the dimensions of the first non-square matrix: the parameter count still matches
  // the config, so only loading the tensors finds it.
  bool swapped = false;
  for (hnet::v1::NamedTensor& named : *ckpt.mutable_parameters()) {
    auto* shape = named.mutable_tensor()->mutable_shape();
    if (shape->size() == 2 && shape->Get(0) != shape->Get(1)) {
      shape->SwapElements(0, 1);
      swapped = true;
      break;
    }
  }
  ASSERT_TRUE(swapped);
  ASSERT_TRUE(CheckHyperNetworkConfig(ckpt, layout, "swapped.hnet").ok());
  auto loaded = LoadHyperNetwork(ckpt, layout, torch::kCPU, "swapped.hnet");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();
  EXPECT_NE(loaded.status().message().find("swapped.hnet"), std::string::npos) << loaded.status();
  EXPECT_NE(loaded.status().message().find("has shape"), std::string::npos) << loaded.status();
}

TEST(LoadHyperNetwork, AnUnexpectedBufferIsDataLoss) {
  const TargetLayout layout = testing::MnistLayout();
  hnet::v1::Checkpoint ckpt = SmallCheckpoint(testing::MnistConfig(), layout);
  // Buffers do not count as parameters, so the config check lets it through.
  AppendNamedTensors({{"stray", torch::zeros({3})}}, ckpt.mutable_buffers());
  ASSERT_TRUE(CheckHyperNetworkConfig(ckpt, layout, "stray.hnet").ok());
  auto loaded = LoadHyperNetwork(ckpt, layout, torch::kCPU, "stray.hnet");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();
  EXPECT_NE(loaded.status().message().find("stray"), std::string::npos) << loaded.status();
}

}  // namespace
}  // namespace hnet::core
