// Every class of bad request gets the right code and a message naming the field or limit,
// and the server keeps answering with unchanged state.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>

#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

using testing::Context;

struct BadCase {
  std::string what;
  std::function<grpc::Status(hnet::v1::HyperNet::Stub&)> call;
  grpc::StatusCode code;
  std::string message;  // Substring of the error message.
};

hnet::v1::SampleWeightsRequest Sample(const std::string& model, int n) {
  hnet::v1::SampleWeightsRequest r;
  r.set_model(model);
  r.set_n(n);
  r.mutable_noise()->set_seed(1);
  return r;
}

hnet::v1::ClassifyRequest Classify(const at::Tensor& inputs, int k) {
  hnet::v1::ClassifyRequest r;
  r.set_model("tiny");
  *r.mutable_inputs() = core::TensorToProto(inputs);
  r.set_ensemble_size(k);
  r.mutable_noise()->set_seed(1);
  return r;
}

hnet::v1::InterpolatePathRequest Path(int points) {
  hnet::v1::InterpolatePathRequest r;
  r.set_model("tiny");
  r.mutable_start()->set_seed(1);
  r.mutable_end()->set_seed(2);
  r.set_points(points);
  *r.mutable_inputs() = core::TensorToProto(torch::zeros({2, 28, 28}, torch::kUInt8));
  *r.mutable_labels() = core::TensorToProto(torch::zeros({2}, torch::kInt64));
  return r;
}

grpc::Status Call(hnet::v1::HyperNet::Stub& stub, const hnet::v1::SampleWeightsRequest& r) {
  hnet::v1::SampleWeightsResponse response;
  return stub.SampleWeights(Context().get(), r, &response);
}
grpc::Status Call(hnet::v1::HyperNet::Stub& stub, const hnet::v1::ClassifyRequest& r) {
  hnet::v1::ClassifyResponse response;
  return stub.Classify(Context().get(), r, &response);
}
grpc::Status Call(hnet::v1::HyperNet::Stub& stub, const hnet::v1::InterpolatePathRequest& r) {
  hnet::v1::InterpolatePathResponse response;
  return stub.InterpolatePath(Context().get(), r, &response);
}
template <typename Request>
std::function<grpc::Status(hnet::v1::HyperNet::Stub&)> Of(Request r) {
  return [r](hnet::v1::HyperNet::Stub& stub) { return Call(stub, r); };
}

class BadRequestTest : public testing::ServerTest {};

TEST_F(BadRequestTest, EveryBadInputIsRefusedAndTheServerKeepsServing) {
  options_.limits.max_networks = 50;
  StartServer();
  const hnet::v1::SampleWeightsResponse before = [&] {
    hnet::v1::SampleWeightsResponse r;
    EXPECT_TRUE(stub_->SampleWeights(Context().get(), Sample("tiny", 3), &r).ok());
    return r;
  }();
  auto with_z = [](const at::Tensor& z) {
    auto r = Sample("tiny", 0);
    *r.mutable_noise()->mutable_z() = core::TensorToProto(z);
    return r;
  };
  auto corrupt_z = with_z(torch::zeros({2, 8}));
  corrupt_z.mutable_noise()->mutable_z()->mutable_data()->resize(5);
  // 2^62 rows and no data: a byte count that wraps to 0 in 64 bits must not pass.
  auto huge_z = with_z(torch::zeros({1, 8}));
  huge_z.mutable_noise()->mutable_z()->set_shape(0, int64_t{1} << 62);
  huge_z.mutable_noise()->mutable_z()->clear_data();
  auto no_noise = Sample("tiny", 2);
  no_noise.clear_noise();
  auto bad_gauge = Sample("tiny", 2);
  bad_gauge.set_permutation_gauge(true);
  auto bad_rule = Classify(torch::zeros({2, 28, 28}, torch::kUInt8), 3);
  bad_rule.set_rule(static_cast<hnet::v1::EnsembleRule>(17));
  auto bad_labels = Path(3);
  *bad_labels.mutable_labels() = core::TensorToProto(torch::full({2}, 10, torch::kInt64));
  auto no_labels = Path(3);
  no_labels.clear_labels();
  auto path_nan = Path(3);
  *path_nan.mutable_inputs() = core::TensorToProto(torch::full({2, 28, 28}, NAN));
  hnet::v1::GetModelInfoRequest unknown_info;
  unknown_info.set_model("missing");
  hnet::v1::GetModelInfoRequest traversal_info;
  traversal_info.set_model("../tiny");
  // 5,000 dimensions: the message may not echo them all (gRPC caps the status metadata).
  auto many_dims = with_z(torch::zeros({1, 8}));
  for (int i = 0; i < 5000; ++i) many_dims.mutable_noise()->mutable_z()->add_shape(1);

  using grpc::StatusCode;
  const std::vector<BadCase> cases = {
      {"unknown model", Of(Sample("missing", 2)), StatusCode::NOT_FOUND, "'missing'"},
      {"unknown model info",
       [&](auto& stub) {
         hnet::v1::ModelInfo info;
         return stub.GetModelInfo(Context().get(), unknown_info, &info);
       },
       StatusCode::NOT_FOUND, "missing"},
      {"path traversal", Of(Sample("../x", 2)), StatusCode::INVALID_ARGUMENT, "model:"},
      {"path traversal info",
       [&](auto& stub) {
         hnet::v1::ModelInfo info;
         return stub.GetModelInfo(Context().get(), traversal_info, &info);
       },
       StatusCode::INVALID_ARGUMENT, "model:"},
      {"empty model", Of(Sample("", 2)), StatusCode::INVALID_ARGUMENT, "model: required"},
      {"20,000-character model name", Of(Sample(std::string(20000, 'a'), 2)),
       StatusCode::INVALID_ARGUMENT, "is longer than 200 characters"},
      {"5,000 z dimensions", Of(many_dims), StatusCode::INVALID_ARGUMENT,
       "1, 1, 1, ... (5002 dimensions)]"},
      {"n = 0", Of(Sample("tiny", 0)), StatusCode::INVALID_ARGUMENT, "n: must be >= 1"},
      {"too many networks", Of(Sample("tiny", 51)), StatusCode::RESOURCE_EXHAUSTED,
       "--max_networks"},
      {"no noise", Of(no_noise), StatusCode::INVALID_ARGUMENT, "noise: set noise.seed"},
      {"z shape", Of(with_z(torch::zeros({2, 7}))), StatusCode::INVALID_ARGUMENT,
       "noise.z: expected float32 [n, 8], got float32 [2, 7]"},
      {"z dtype", Of(with_z(torch::zeros({2, 8}, torch::kFloat64))), StatusCode::INVALID_ARGUMENT,
       "noise.z: expected float32 [n, 8], got float64 [2, 8]"},
      {"z bytes", Of(corrupt_z), StatusCode::INVALID_ARGUMENT, "noise.z:"},
      {"z not finite", Of(with_z(torch::full({1, 8}, NAN))), StatusCode::INVALID_ARGUMENT,
       "noise.z: values must be finite"},
      {"too many z rows", Of(with_z(torch::zeros({51, 8}))), StatusCode::RESOURCE_EXHAUSTED,
       "--max_networks"},
      {"z rows past every limit", Of(huge_z), StatusCode::RESOURCE_EXHAUSTED,
       "noise.z rows = 4611686018427387904"},
      {"permutation without scale", Of(bad_gauge), StatusCode::INVALID_ARGUMENT,
       "permutation_gauge: requires gauge_fixed"},
      {"inputs dtype", Of(Classify(torch::zeros({2, 28, 28}, torch::kInt64), 3)),
       StatusCode::INVALID_ARGUMENT, "inputs: dtype must be uint8 or float32"},
      {"inputs shape", Of(Classify(torch::zeros({2, 27, 28}), 3)), StatusCode::INVALID_ARGUMENT,
       "inputs: expected [N, 28, 28] or [N, 1, 28, 28], got float32 [2, 27, 28]"},
      {"inputs not finite", Of(Classify(torch::full({1, 28, 28}, INFINITY), 3)),
       StatusCode::INVALID_ARGUMENT, "inputs: values must be finite"},
      {"float inputs above 1", Of(Classify(torch::full({1, 28, 28}, 1e38), 3)),
       StatusCode::INVALID_ARGUMENT, "inputs: float32 pixel values must be in [0, 1]"},
      {"float inputs below 0", Of(Classify(torch::full({1, 28, 28}, -0.5), 3)),
       StatusCode::INVALID_ARGUMENT, "inputs: float32 pixel values must be in [0, 1]"},
      {"no inputs", Of(Classify(torch::zeros({0, 28, 28}), 3)), StatusCode::INVALID_ARGUMENT,
       "inputs count: must be >= 1"},
      {"ensemble 0", Of(Classify(torch::zeros({1, 28, 28}), 0)), StatusCode::INVALID_ARGUMENT,
       "ensemble_size: must be >= 1"},
      {"ensemble too large", Of(Classify(torch::zeros({1, 28, 28}), 1001)),
       StatusCode::RESOURCE_EXHAUSTED, "--max_ensemble_size"},
      {"too many inputs", Of(Classify(torch::zeros({10001, 28, 28}, torch::kUInt8), 1)),
       StatusCode::RESOURCE_EXHAUSTED, "--max_inputs"},
      {"bad rule", Of(bad_rule), StatusCode::INVALID_ARGUMENT, "rule: unknown value 17"},
      {"one point", Of(Path(1)), StatusCode::INVALID_ARGUMENT, "points: must be >= 2"},
      {"too many points", Of(Path(1001)), StatusCode::RESOURCE_EXHAUSTED, "--max_path_points"},
      {"label range", Of(bad_labels), StatusCode::INVALID_ARGUMENT, "labels: every label"},
      {"inputs without labels", Of(no_labels), StatusCode::INVALID_ARGUMENT,
       "labels: required with inputs"},
      {"path inputs not finite", Of(path_nan), StatusCode::INVALID_ARGUMENT,
       "inputs: values must be finite"},
  };
  for (const BadCase& c : cases) {
    grpc::Status status = c.call(*stub_);
    EXPECT_EQ(status.error_code(), c.code) << c.what << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(c.message), std::string::npos)
        << c.what << ": '" << status.error_message() << "' lacks '" << c.message << "'";
    hnet::v1::ListModelsResponse list;  // Still serving after each one.
    ASSERT_TRUE(stub_->ListModels(Context().get(), {}, &list).ok()) << "after " << c.what;
  }
  hnet::v1::SampleWeightsResponse after;  // Same answer as before: no state changed.
  ASSERT_TRUE(stub_->SampleWeights(Context().get(), Sample("tiny", 3), &after).ok());
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString());
}

TEST_F(BadRequestTest, ResponsesLargerThanTheMessageLimitAreRefused) {
  options_.limits.max_message_bytes = 1 << 20;  // 1 MiB: about 13 networks of 20,018 floats.
  StartServer();
  grpc::Status status = Call(*stub_, Sample("tiny", 20));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max_message_mb"), std::string::npos);
  EXPECT_TRUE(Call(*stub_, Sample("tiny", 5)).ok());
}

// The client's side only: the deadline may pass before the call reaches the server, so what
// the server records is checked in SampleWeightsCallTest (with its workers held).
TEST_F(BadRequestTest, AnExpiredDeadlineFailsThatCallAndTheNextOneIsAnswered) {
  StartServer();
  hnet::v1::SampleWeightsRequest big = Sample("tiny", 600);
  hnet::v1::SampleWeightsResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(20));
  grpc::Status status = stub_->SampleWeights(&context, big, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(Call(*stub_, Sample("tiny", 2)).ok());
}

}  // namespace
}  // namespace hnet::server
