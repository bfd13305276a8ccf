// InterpolatePath: endpoints, DIRECT vs INTERPOLATED, client inputs and the server's split.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>

#include "core/dataset.h"
#include "core/evaluation.h"
#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

using testing::Context;
using testing::FromProto;

class InterpolatePathTest : public testing::ServerTest {
 protected:
  // Network 0 generated from `seed`, via SampleWeights.
  core::WeightBatch Network(uint64_t seed) {
    hnet::v1::SampleWeightsRequest request;
    request.set_model("tiny");
    request.set_n(1);
    request.mutable_noise()->set_seed(seed);
    hnet::v1::SampleWeightsResponse response;
    EXPECT_TRUE(stub_->SampleWeights(Context().get(), request, &response).ok());
    core::WeightBatch w;
    for (const auto& layer : response.layers()) w.push_back(FromProto(layer.weights()));
    return w;
  }
};

TEST_F(InterpolatePathTest, EndpointsAreTheEndpointNetworksOnClientInputs) {
  StartServer();
  const core::TargetLayout layout = core::TargetLayout::Create(core::MnistTargetSpec()).value();
  torch::manual_seed(4);
  at::Tensor images = torch::rand({40, 1, 28, 28});
  const core::WeightBatch start = Network(1), end = Network(2);
  // Labels: the start network's own predictions on half the inputs, so accuracy is not 0.
  at::Tensor start_probs = core::PredictProbabilities(layout, start, images);
  at::Tensor labels = start_probs.argmax(-1).squeeze(0).to(torch::kInt32);
  labels.slice(0, 20).fill_(3);
  const double start_acc = core::NetworkAccuracies(start_probs, labels)[0];
  const double end_acc =
      core::NetworkAccuracies(core::PredictProbabilities(layout, end, images), labels)[0];

  hnet::v1::InterpolatePathRequest request;
  request.set_model("tiny");
  request.mutable_start()->set_seed(1);
  request.mutable_end()->set_seed(2);
  request.set_points(5);
  *request.mutable_inputs() = core::TensorToProto(images);
  *request.mutable_labels() = core::TensorToProto(labels);
  request.set_return_weights(true);
  hnet::v1::InterpolatePathResponse response;
  grpc::Status status = stub_->InterpolatePath(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.evaluated_inputs(), 40);
  ASSERT_EQ(response.points_size(), 5);
  const auto& first = response.points(0);
  const auto& last = response.points(4);
  EXPECT_EQ(first.t(), 0.0);
  EXPECT_EQ(response.points(2).t(), 0.5);
  EXPECT_EQ(last.t(), 1.0);
  EXPECT_DOUBLE_EQ(first.direct_accuracy(), start_acc);
  EXPECT_DOUBLE_EQ(first.interpolated_accuracy(), start_acc);
  EXPECT_DOUBLE_EQ(last.direct_accuracy(), end_acc);
  EXPECT_DOUBLE_EQ(last.interpolated_accuracy(), end_acc);
  for (int l = 0; l < 4; ++l) {
    EXPECT_TRUE(torch::equal(FromProto(first.direct_weights(l).weights()), start[l][0]));
    EXPECT_TRUE(torch::equal(FromProto(first.interpolated_weights(l).weights()), start[l][0]));
    EXPECT_TRUE(torch::equal(FromProto(last.direct_weights(l).weights()), end[l][0]));
    EXPECT_TRUE(torch::equal(FromProto(last.interpolated_weights(l).weights()), end[l][0]));
    // The midpoint of DIRECT is the mean of the endpoint weights.
    EXPECT_TRUE(torch::allclose(FromProto(response.points(2).direct_weights(l).weights()),
                                (start[l][0] + end[l][0]) / 2, 1e-5, 1e-6));
  }
}

TEST_F(InterpolatePathTest, ExplicitZAndOneModeOnly) {
  StartServer();
  hnet::v1::InterpolatePathRequest request;
  request.set_model("tiny");
  *request.mutable_start()->mutable_z() = core::TensorToProto(torch::zeros({8}));
  *request.mutable_end()->mutable_z() = core::TensorToProto(torch::ones({1, 8}) * 0.5);
  request.set_points(3);
  request.set_mode(hnet::v1::InterpolatePathRequest::INTERPOLATED);
  *request.mutable_inputs() = core::TensorToProto(torch::zeros({4, 28, 28}, torch::kUInt8));
  *request.mutable_labels() = core::TensorToProto(torch::zeros({4}, torch::kInt64));
  hnet::v1::InterpolatePathResponse response;
  ASSERT_TRUE(stub_->InterpolatePath(Context().get(), request, &response).ok());
  ASSERT_EQ(response.points_size(), 3);
  EXPECT_EQ(response.points(1).direct_weights_size(), 0);
  EXPECT_EQ(response.points(1).direct_accuracy(), 0.0);
}

TEST_F(InterpolatePathTest, UsesTheServersTestSplitWithoutInputs) {
  const char* data = std::getenv("HNET_DATA_DIR");
  if (data == nullptr) GTEST_SKIP() << "HNET_DATA_DIR is not set";
  // A data directory holding MNIST's two test files only: the training files are not needed.
  const std::filesystem::path test_only = dir_ / "test-only";
  std::filesystem::create_directories(test_only / "mnist");
  int linked = 0;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(data) / "mnist", error)) {
    if (entry.path().filename().string().rfind("t10k-", 0) != 0) continue;
    std::filesystem::create_symlink(std::filesystem::absolute(entry.path()),
                                    test_only / "mnist" / entry.path().filename());
    ++linked;
  }
  if (linked < 2) GTEST_SKIP() << "no MNIST test files in " << data << "/mnist";
  options_.data_dir = test_only.string();
  StartServer();
  hnet::v1::InterpolatePathRequest request;
  request.set_model("tiny");
  request.mutable_start()->set_seed(1);
  request.mutable_end()->set_seed(2);
  request.set_points(2);
  request.set_mode(hnet::v1::InterpolatePathRequest::DIRECT);
  hnet::v1::InterpolatePathResponse response;
  grpc::Status status = stub_->InterpolatePath(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.evaluated_inputs(), 10000);
  // The start network's accuracy on the same split, computed with core alone (within 10 of
  // 10000 images: the server may score in other chunks).
  auto split = core::LoadTestSplit(test_only.string(), core::DatasetKind::kMnist);
  ASSERT_TRUE(split.ok()) << split.status();
  const core::TargetLayout layout = core::TargetLayout::Create(core::MnistTargetSpec()).value();
  const double start_acc = core::NetworkAccuracies(
      core::PredictProbabilities(layout, Network(1), split->images), split->labels)[0];
  ASSERT_EQ(response.points_size(), 2);
  EXPECT_NEAR(response.points(0).direct_accuracy(), start_acc, 1e-3);

  // The split counts against --max_inputs like sent inputs do.
  options_.limits.max_inputs = 100;
  StartServer();
  status = stub_->InterpolatePath(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("evaluation split of 10000 images exceeds the limit of "
                                        "100 (--max_inputs)"),
            std::string::npos)
      << status.error_message();
}

TEST_F(InterpolatePathTest, ExplainsAMissingEvaluationSplit) {
  options_.data_dir = (dir_ / "no-data").string();
  StartServer();
  hnet::v1::InterpolatePathRequest request;
  request.set_model("tiny");
  request.mutable_start()->set_seed(1);
  request.mutable_end()->set_seed(2);
  request.set_points(2);
  hnet::v1::InterpolatePathResponse response;
  grpc::Status status = stub_->InterpolatePath(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("send inputs and labels"), std::string::npos)
      << status.error_message();
}

}  // namespace
}  // namespace hnet::server
