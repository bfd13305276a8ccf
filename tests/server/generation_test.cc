// GenerateWeights: padded passes run a wave at a time (one per thread on the CPU) give every
// network the bits a lone sequential pass gives it, and cancellation stops between waves.
#include "server/generation.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

#include "core/gauge.h"
#include "core/hypernetwork.h"
#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

class GenerationTest : public testing::TinyModelTest {
 protected:
  void SetUp() override {
    TinyModelTest::SetUp();
    at::set_num_threads(3);  // Waves of 3 passes; ServerTest runs with 1 thread.
  }
  void TearDown() override {
    at::set_num_threads(1);
    TinyModelTest::TearDown();
  }
  // Networks for two waves: a full one, then one pass that is mostly padding.
  int64_t TwoWaves() const { return GenerationWave(model_->device) * kGenerationChunk + 5; }
};

constexpr GaugeOptions kGauges[] = {{false, false}, {true, false}, {true, true}};

TEST_F(GenerationTest, EqualsSequentialPaddedPassesBitForBit) {
  const int64_t n = TwoWaves();
  const at::Tensor z = SeedNoise(*model_, 21, n);
  for (const GaugeOptions& gauge : kGauges) {
    auto weights = GenerateWeights(*model_, z, gauge);
    ASSERT_TRUE(weights.ok()) << weights.status();
    torch::NoGradGuard no_grad;
    for (int64_t begin = 0; begin < n; begin += kGenerationChunk) {
      const int64_t rows = std::min(n - begin, kGenerationChunk);
      at::Tensor zc = torch::zeros({kGenerationChunk, z.size(1)});
      zc.slice(0, 0, rows).copy_(z.slice(0, begin, begin + rows));
      core::WeightBatch w = model_->network->forward(zc);
      if (gauge.scale) w = core::GaugeFix(model_->layout, w, true, gauge.permutation);
      for (size_t l = 0; l < w.size(); ++l) {
        ASSERT_TRUE((*weights)[l].is_contiguous());
        // Every pass ran without autograd, also on the team's other threads.
        EXPECT_FALSE((*weights)[l].requires_grad()) << "layer " << l;
        EXPECT_TRUE(
            torch::equal((*weights)[l].slice(0, begin, begin + rows), w[l].slice(0, 0, rows)))
            << "gauge " << gauge.scale << gauge.permutation << " pass at " << begin << " layer "
            << l;
      }
    }
  }
}

TEST_F(GenerationTest, NetworkBitsDoNotDependOnTheWaveTheyRunIn) {
  const int64_t n = TwoWaves();
  const at::Tensor z = SeedNoise(*model_, 22, n);
  for (const GaugeOptions& gauge : kGauges) {
    auto all = GenerateWeights(*model_, z, gauge);
    ASSERT_TRUE(all.ok()) << all.status();
    for (int64_t begin : {int64_t{0}, kGenerationChunk + 1, n - 3}) {
      // Alone, the rows keep their place in a pass: BLAS kernels (e.g. OpenBLAS's for AMD Zen)
      // may round a row differently at another place in the matrix.
      const int64_t place = begin % kGenerationChunk;
      auto alone = GenerateWeights(*model_, z.slice(0, begin - place, begin + 3), gauge);
      ASSERT_TRUE(alone.ok()) << alone.status();
      for (size_t l = 0; l < alone->size(); ++l) {
        EXPECT_TRUE(torch::equal((*alone)[l].slice(0, place, place + 3),
                                 (*all)[l].slice(0, begin, begin + 3)))
            << "gauge " << gauge.scale << gauge.permutation << " rows from " << begin << " layer "
            << l;
      }
    }
  }
}

TEST_F(GenerationTest, NoNetworksGiveEmptyLayers) {
  auto weights = GenerateWeights(*model_, SeedNoise(*model_, 1, 0), {});
  ASSERT_TRUE(weights.ok()) << weights.status();
  ASSERT_EQ(static_cast<int64_t>(weights->size()), model_->layout.num_layers());
  for (const at::Tensor& w : *weights) EXPECT_EQ(w.size(0), 0);
}

TEST_F(GenerationTest, StopsBetweenWavesOnceTheCheckSaysCancelled) {
  const at::Tensor z = SeedNoise(*model_, 4, TwoWaves());
  int checks = 0;
  auto weights = GenerateWeights(*model_, z, {}, [&] { return ++checks > 1; });
  EXPECT_EQ(weights.status().code(), absl::StatusCode::kCancelled) << weights.status();
  EXPECT_EQ(checks, 2);  // Before the first wave (go on), before the second (stop).
  checks = 0;
  EXPECT_TRUE(GenerateWeights(*model_, z, {}, [&] { return ++checks > 2; }).ok());
  EXPECT_EQ(checks, 2);  // One check per wave.
  EXPECT_TRUE(GenerateWeights(*model_, z, {}, std::function<bool()>()).ok());
}

TEST_F(GenerationTest, WavesHaveOnePassPerThreadOnTheCpuOnly) {
  EXPECT_EQ(GenerationWave(c10::Device(c10::kCPU)), 3);
  EXPECT_EQ(GenerationWave(c10::Device(c10::kCUDA, 0)), 1);
}

TEST_F(GenerationTest, ConcurrentCallsGiveTheBitsOfALoneCall) {
  const at::Tensor z = SeedNoise(*model_, 23, TwoWaves());
  const GaugeOptions gauge{true, true};
  auto alone = GenerateWeights(*model_, z, gauge);
  ASSERT_TRUE(alone.ok()) << alone.status();
  std::vector<absl::StatusOr<core::WeightBatch>> results(2);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] {
      at::init_num_threads();  // As executor workers do.
      at::set_num_threads(3);
      result = GenerateWeights(*model_, z, gauge);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    for (size_t l = 0; l < alone->size(); ++l) {
      EXPECT_TRUE(torch::equal((*result)[l], (*alone)[l])) << "layer " << l;
    }
  }
}

TEST_F(GenerationTest, RefusesAModelInTrainingMode) {
  auto model = LoadModel(ModelPath("tiny"), "tiny", RegistryOptions{});
  ASSERT_TRUE(model.ok()) << model.status();
  (*model)->network->train();  // The registry's models are in eval mode.
  auto weights = GenerateWeights(**model, SeedNoise(**model, 1, 2), {});
  EXPECT_EQ(weights.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(weights.status().message().find("eval mode"), std::string::npos) << weights.status();
}

}  // namespace
}  // namespace hnet::server
