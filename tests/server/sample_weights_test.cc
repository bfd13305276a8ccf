// SampleWeights and StreamWeights against the local core computation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/gauge.h"
#include "core/rng.h"
#include "core/target_forward.h"
#include "server/generation.h"
#include "server/responses.h"
#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

using testing::Context;
using testing::FromProto;

class SampleWeightsTest : public testing::ServerTest {
 protected:
  hnet::v1::SampleWeightsResponse Sample(int n, uint64_t seed, bool gauge = false,
                                         bool permutation = false) {
    hnet::v1::SampleWeightsRequest request;
    request.set_model("tiny");
    request.set_n(n);
    request.mutable_noise()->set_seed(seed);
    request.set_gauge_fixed(gauge);
    request.set_permutation_gauge(permutation);
    request.set_return_z(true);
    hnet::v1::SampleWeightsResponse response;
    grpc::Status status = stub_->SampleWeights(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
};

TEST_F(SampleWeightsTest, EqualsTheLocalCoreComputationBitForBit) {
  StartServer();
  const hnet::v1::SampleWeightsResponse response = Sample(100, 7);
  core::HyperNetwork local = testing::LoadLocal(ModelPath("tiny"));
  torch::NoGradGuard no_grad;
  at::Tensor z = local->SampleZ(100, core::MakeGenerator(7));
  // generation.h's contract: G runs on zero-padded passes of kGenerationChunk networks, so a
  // network's bits do not depend on n (BLAS may sum in another order for another batch size).
  at::Tensor padded = torch::zeros({2 * kGenerationChunk, z.size(1)});
  padded.slice(0, 0, 100).copy_(z);
  core::WeightBatch first = local->forward(padded.slice(0, 0, kGenerationChunk));
  core::WeightBatch second = local->forward(padded.slice(0, kGenerationChunk));
  core::WeightBatch unpadded = local->forward(z);
  EXPECT_TRUE(torch::equal(FromProto(response.z()), z));
  ASSERT_EQ(response.layers_size(), 4);
  const char* names[] = {"layer0.conv5x5x32", "layer1.conv5x5x16", "layer2.dense8",
                         "layer3.dense10"};
  for (int l = 0; l < 4; ++l) {
    EXPECT_EQ(response.layers(l).name(), names[l]);
    at::Tensor got = FromProto(response.layers(l).weights());
    at::Tensor expected = torch::cat({first[l], second[l]}).slice(0, 0, 100);
    EXPECT_EQ(got.sizes(), expected.sizes());
    EXPECT_TRUE(torch::equal(got, expected)) << "layer " << l;
    // One unpadded pass of all 100 agrees to float rounding.
    const double scale = unpadded[l].abs().max().item<double>();
    EXPECT_TRUE(torch::allclose(got, unpadded[l], 1e-5, 1e-6 * (1 + scale))) << "layer " << l;
  }
}

TEST_F(SampleWeightsTest, ResponseBytesEqualTheInProcessMessageWithTheServingVersion) {
  StartServer();
  auto local = LoadModel(ModelPath("tiny"), "tiny", RegistryOptions{});
  ASSERT_TRUE(local.ok()) << local.status();
  for (int n : {1, 70}) {
    for (bool gauge : {false, true}) {
      for (bool return_z : {false, true}) {
        hnet::v1::SampleWeightsRequest request;
        request.set_model("tiny");
        request.set_n(n);
        request.mutable_noise()->set_seed(40 + n);
        request.set_gauge_fixed(gauge);
        request.set_return_z(return_z);
        hnet::v1::SampleWeightsResponse response;
        grpc::Status status = stub_->SampleWeights(Context().get(), request, &response);
        ASSERT_TRUE(status.ok()) << status.error_message();
        const at::Tensor z = SeedNoise(**local, 40 + n, n);
        auto weights = GenerateWeights(**local, z, {gauge, false});
        ASSERT_TRUE(weights.ok()) << weights.status();
        hnet::v1::SampleWeightsResponse expected =
            MakeSampleResponse(**local, *weights, z, return_z);
        *expected.mutable_model() = VersionOf(**local);
        EXPECT_EQ(response.model().name(), "tiny");
        EXPECT_EQ(response.model().version(), 1);
        EXPECT_EQ(response.SerializeAsString(), expected.SerializeAsString())
            << "n " << n << " gauge " << gauge << " return_z " << return_z;
      }
    }
  }
}

TEST_F(SampleWeightsTest, IsBitIdenticalAcrossServerRestarts) {
  StartServer();
  const std::string first = Sample(70, 11).SerializeAsString();
  EXPECT_EQ(Sample(70, 11).SerializeAsString(), first);
  StartServer();  // A fresh registry and server over the same file.
  EXPECT_EQ(Sample(70, 11).SerializeAsString(), first);
  EXPECT_NE(Sample(70, 12).SerializeAsString(), first);
}

TEST_F(SampleWeightsTest, NetworkBitsDependOnlyOnZ) {
  StartServer();
  // Seeded uniform noise is prefix-consistent, so the first 3 networks share their z.
  const auto small = Sample(3, 5);
  const auto large = Sample(130, 5);
  hnet::v1::SampleWeightsRequest request;
  request.set_model("tiny");
  at::Tensor z = FromProto(large.z()).slice(0, 64, 67);  // Rows 64..66 of the large request.
  *request.mutable_noise()->mutable_z() = core::TensorToProto(z);
  hnet::v1::SampleWeightsResponse explicit_z;
  ASSERT_TRUE(stub_->SampleWeights(Context().get(), request, &explicit_z).ok());
  for (int l = 0; l < 4; ++l) {
    at::Tensor big = FromProto(large.layers(l).weights());
    EXPECT_TRUE(torch::equal(FromProto(small.layers(l).weights()), big.slice(0, 0, 3)));
    EXPECT_TRUE(torch::equal(FromProto(explicit_z.layers(l).weights()), big.slice(0, 64, 67)));
  }
}

TEST_F(SampleWeightsTest, GaugeFixedWeightsSatisfyTheGaugeConstraints) {
  StartServer();
  const auto raw = Sample(10, 3);
  const auto fixed = Sample(10, 3, /*gauge=*/true);
  const auto sorted = Sample(10, 3, /*gauge=*/true, /*permutation=*/true);
  const core::TargetLayout layout = core::TargetLayout::Create(core::MnistTargetSpec()).value();
  core::WeightBatch raw_w, fixed_w;
  for (int l = 0; l < 4; ++l) {
    raw_w.push_back(FromProto(raw.layers(l).weights()));
    fixed_w.push_back(FromProto(fixed.layers(l).weights()));
    at::Tensor w = fixed_w.back();
    if (l < 3) {  // Hidden layers: |filter|^2 = filter size.
      at::Tensor norms = w.pow(2).sum(2);
      EXPECT_TRUE(torch::allclose(norms, torch::full_like(norms, w.size(2)), 1e-4, 1e-4))
          << "layer " << l << " norms " << norms.min().item<float>() << ".."
          << norms.max().item<float>();
      // Permutation gauge: filters in ascending order of their first weight.
      at::Tensor first = FromProto(sorted.layers(l).weights()).select(2, 0);
      EXPECT_TRUE((first.slice(1, 1) >= first.slice(1, 0, -1)).all().item<bool>());
    } else {  // Logits biases sum to zero.
      at::Tensor bias_sum = w.select(2, w.size(2) - 1).sum(1);
      EXPECT_LT(bias_sum.abs().max().item<float>(), 1e-5);
    }
  }
  // Equal to core's gauge on the raw weights, and the networks compute the same function.
  core::WeightBatch expected = core::ScaleGauge(layout, raw_w);
  for (int l = 0; l < 4; ++l) EXPECT_TRUE(torch::allclose(fixed_w[l], expected[l], 1e-5, 1e-6));
  at::Tensor x = torch::rand({4, 1, 28, 28});
  at::Tensor a = core::SharedForward(layout, raw_w, x);
  at::Tensor b = core::SharedForward(layout, fixed_w, x);
  EXPECT_TRUE(torch::allclose(a - a.mean(-1, true), b - b.mean(-1, true), 1e-3, 1e-3));
}

TEST_F(SampleWeightsTest, StreamOf500NetworksEqualsSampleWeights) {
  StartServer();
  const auto batch = Sample(500, 9);
  hnet::v1::SampleWeightsRequest request;
  request.set_model("tiny");
  request.set_n(500);
  request.mutable_noise()->set_seed(9);
  request.set_return_z(true);
  auto context = Context();
  auto reader = stub_->StreamWeights(context.get(), request);
  std::vector<at::Tensor> layers;
  for (int l = 0; l < 4; ++l) layers.push_back(FromProto(batch.layers(l).weights()));
  at::Tensor z = FromProto(batch.z());
  hnet::v1::GeneratedNetwork network;
  int count = 0;
  while (reader->Read(&network)) {
    ASSERT_EQ(network.index(), count);
    EXPECT_TRUE(torch::equal(FromProto(network.z()), z[count]));
    ASSERT_EQ(network.layers_size(), 4);
    for (int l = 0; l < 4; ++l) {
      ASSERT_TRUE(torch::equal(FromProto(network.layers(l).weights()), layers[l][count]))
          << "network " << count << " layer " << l;
    }
    ++count;
  }
  grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(count, 500);
}

}  // namespace
}  // namespace hnet::server
