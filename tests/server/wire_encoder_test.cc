// EncodeSampleResponse against protobuf's own serialisation of the message MakeSampleResponse
// builds, and the lifetime of the tensor memory its slices point into.
#include "server/wire_encoder.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "server/generation.h"
#include "server/responses.h"
#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

using testing::ToString;

// The bytes the unary handler sent: MakeSampleResponse with the version, serialised.
std::string Serialized(const LoadedModel& model, const core::WeightBatch& weights,
                       const at::Tensor& z, bool return_z, const hnet::v1::ModelVersion& version) {
  hnet::v1::SampleWeightsResponse response = MakeSampleResponse(model, weights, z, return_z);
  *response.mutable_model() = version;
  std::string bytes;
  EXPECT_TRUE(response.SerializeToString(&bytes));
  return bytes;
}

using WireEncoderTest = testing::TinyModelTest;

TEST_F(WireEncoderTest, BytesEqualProtobufSerialisationForGeneratedWeights) {
  const GaugeOptions gauges[] = {{false, false}, {true, false}, {true, true}};
  for (int n : {1, 3, 64, 65, 130}) {
    const at::Tensor z = SeedNoise(*model_, /*seed=*/1000 + n, n);
    for (const GaugeOptions& gauge : gauges) {
      auto weights = GenerateWeights(*model_, z, gauge);
      ASSERT_TRUE(weights.ok()) << weights.status();
      for (bool return_z : {false, true}) {
        const hnet::v1::ModelVersion version = VersionOf(*model_);
        EXPECT_EQ(ToString(EncodeSampleResponse(*model_, *weights, z, return_z, version)),
                  Serialized(*model_, *weights, z, return_z, version))
            << "n " << n << " gauge " << gauge.scale << gauge.permutation << " return_z "
            << return_z;
      }
    }
  }
}

TEST_F(WireEncoderTest, BytesEqualProtobufSerialisationForEdgeCases) {
  torch::manual_seed(3);
  LoadedModel model;
  // An empty name (left out by proto3), a 1-byte one and one whose length needs two varint bytes.
  model.layer_names = {"", "a", std::string(200, 'n'), "zero-rows", "scalar"};
  const core::WeightBatch weights = {
      torch::randn({2, 3, 4}),  torch::randn({5, 3}, torch::kFloat64),  // Converted to float32.
      torch::randn({4, 6}).t(),                                         // Not contiguous.
      torch::zeros({0, 7}),   // No data bytes: the field is left out.
      torch::full({}, 1.5f),  // No shape.
  };
  hnet::v1::ModelVersion version;
  version.set_name("tiny");
  version.set_version(int64_t{1} << 40);  // A multi-byte varint.
  version.set_content_hash("1a2b3c4d");
  for (const at::Tensor& z : {torch::randn({2, 8}), torch::zeros({0, 8})}) {
    for (bool return_z : {false, true}) {
      EXPECT_EQ(ToString(EncodeSampleResponse(model, weights, z, return_z, version)),
                Serialized(model, weights, z, return_z, version))
          << "z " << z.sizes() << " return_z " << return_z;
    }
  }
  EXPECT_EQ(ToString(EncodeSampleResponse(model, {}, {}, false, {})),
            Serialized(model, {}, {}, false, {}));
}

TEST_F(WireEncoderTest, SendsTheWeightsMemoryWithoutCopying) {
  const at::Tensor z = SeedNoise(*model_, 5, 10);
  auto weights = GenerateWeights(*model_, z, {});
  ASSERT_TRUE(weights.ok());
  const grpc::ByteBuffer buffer = EncodeSampleResponse(*model_, *weights, z, true, {});
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(buffer.Dump(&slices).ok());
  std::vector<const void*> starts;
  for (const grpc::Slice& s : slices) starts.push_back(s.begin());
  for (const at::Tensor& t : *weights) {
    EXPECT_NE(std::find(starts.begin(), starts.end(), t.data_ptr()), starts.end())
        << "no slice points at a layer's memory";
  }
  EXPECT_NE(std::find(starts.begin(), starts.end(), z.data_ptr()), starts.end());
}

TEST_F(WireEncoderTest, TheBufferKeepsTheTensorsAliveUntilItIsGone) {
  LoadedModel model;
  model.layer_names = {"layer"};
  std::vector<float> memory(12, 2.5f);
  int freed = 0;
  grpc::ByteBuffer buffer;
  {
    const at::Tensor t = torch::from_blob(
        memory.data(), {3, 4}, [&](void*) { ++freed; }, torch::kFloat32);
    buffer = EncodeSampleResponse(model, {t}, {}, false, {});
  }
  EXPECT_EQ(freed, 0);
  hnet::v1::SampleWeightsResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(ToString(buffer)));
  EXPECT_EQ(parsed.layers(0).weights().data().size(), 12 * sizeof(float));
  grpc::ByteBuffer copy = buffer;  // Shares the slices.
  buffer.Clear();
  EXPECT_EQ(freed, 0);
  copy.Clear();
  EXPECT_EQ(freed, 1);
}

TEST_F(WireEncoderTest, RefusesANonFloat32Z) {
  auto weights = GenerateWeights(*model_, SeedNoise(*model_, 1, 1), {});
  ASSERT_TRUE(weights.ok());
  EXPECT_THROW(
      EncodeSampleResponse(*model_, *weights, torch::zeros({1, 8}, torch::kFloat64), true, {}),
      c10::Error);
}

}  // namespace
}  // namespace hnet::server
