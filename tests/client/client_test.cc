// Client against in-process fake servers: conversions, errors, retries, deadlines, round-robin.
#include "client/client.h"

#include <gtest/gtest.h>

#include "tests/client/fake_server.h"

namespace hnet::client {
namespace {

using testing::FakeServer;

ClientOptions FastOptions(std::vector<std::string> addresses) {
  ClientOptions options;
  options.addresses = std::move(addresses);
  options.deadline = absl::Seconds(10);
  options.initial_backoff = absl::Milliseconds(5);
  options.max_backoff = absl::Milliseconds(20);
  return options;
}

std::unique_ptr<Client> MustConnect(const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

TEST(ClientTest, ConnectRejectsEmptyAddressList) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(ClientOptions());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(client.status().message().find("addresses"), std::string::npos);
}

TEST(ClientTest, ModelInfoIsConverted) {
  FakeServer server("mnist");
  auto client = MustConnect(FastOptions({server.address()}));
  absl::StatusOr<std::vector<ModelInfo>> models = client->ListModels();
  ASSERT_TRUE(models.ok()) << models.status();
  ASSERT_EQ(models->size(), 1u);
  const ModelInfo& m = (*models)[0];
  EXPECT_EQ(m.name, "mnist");
  EXPECT_EQ(m.version, "deadbeef");
  EXPECT_EQ(m.version_number, 3);
  EXPECT_TRUE(m.latest);
  EXPECT_EQ(m.target.input_height, 2);
  ASSERT_EQ(m.target.layers.size(), 2u);
  EXPECT_EQ(m.target.layers[0].kind, LayerSpec::Kind::kConv);
  EXPECT_EQ(m.target.layers[1].units, 1);
  ASSERT_EQ(m.layers.size(), 2u);
  EXPECT_EQ(m.layers[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(m.z_distribution, ZDistribution::kNormal);
  EXPECT_EQ(m.step, 42);
  EXPECT_DOUBLE_EQ(m.validation.mean_accuracy, 0.97);
  EXPECT_EQ(m.parameter_count, 1234);
}

TEST(ClientTest, ServerErrorsKeepCodeAndMessage) {
  FakeServer server("mnist");
  auto client = MustConnect(FastOptions({server.address()}));
  absl::StatusOr<ModelInfo> info = client->GetModelInfo("nope");
  EXPECT_EQ(info.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(info.status().message(), "model 'nope' not found");
  EXPECT_EQ(server.service().calls.load(), 1);  // not retried
}

TEST(ClientTest, SampleWeightsConvertsRequestAndResponse) {
  FakeServer server;
  auto client = MustConnect(FastOptions({server.address()}));
  SampleOptions options;
  options.n = 3;
  options.noise = Noise::FromSeed(7);
  options.gauge_fixed = true;
  options.permutation_gauge = true;
  options.return_z = true;
  options.version = 2;
  absl::StatusOr<SampleResult> result = client->SampleWeights("fake", options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->model.name, "fake");
  EXPECT_EQ(result->model.version, 2);
  EXPECT_EQ(result->model.content_hash, "deadbeef");
  {
    absl::MutexLock lock(&server.service().mu);
    const hnet::v1::SampleWeightsRequest& req = server.service().last_sample;
    EXPECT_EQ(req.model(), "fake");
    EXPECT_EQ(req.version(), 2);
    EXPECT_EQ(req.n(), 3);
    EXPECT_EQ(req.noise().seed(), 7u);
    EXPECT_TRUE(req.gauge_fixed());
    EXPECT_TRUE(req.permutation_gauge());
    EXPECT_TRUE(req.return_z());
  }
  ASSERT_EQ(result->layers.size(), 2u);
  EXPECT_EQ(result->layers[1].name, "layer1");
  EXPECT_EQ(result->layers[0].weights.shape, (std::vector<int64_t>{3, 2, 3}));
  absl::StatusOr<std::vector<float>> w = ToVector<float>(result->layers[0].weights);
  ASSERT_TRUE(w.ok());
  EXPECT_FLOAT_EQ((*w)[6 + 1], 7000 + 10 + 0.125f);  // network 1, element 1
  EXPECT_EQ(result->z.shape, (std::vector<int64_t>{3, 1}));
}

TEST(ClientTest, InvalidOptionsAreRejectedBeforeSending) {
  FakeServer server;
  auto client = MustConnect(FastOptions({server.address()}));
  SampleOptions options;
  options.n = 0;
  absl::StatusOr<SampleResult> result = client->SampleWeights("fake", options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("SampleOptions.n"), std::string::npos);
  EXPECT_EQ(server.service().calls.load(), 0);
}

TEST(ClientTest, CallsWithoutNoiseFailLocallyNamingTheField) {
  // Nothing listens on port 1: a call that reached for the network would be UNAVAILABLE.
  ClientOptions options = FastOptions({"127.0.0.1:1"});
  options.max_attempts = 1;
  auto client = MustConnect(options);
  const Tensor images = *MakeUint8(std::vector<uint8_t>(8), {2, 2, 2});
  auto expect_no_noise = [](const absl::Status& s, absl::string_view message) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(s.message(), message);
  };
  constexpr absl::string_view kSample = "SampleOptions.noise: set seed or z";
  expect_no_noise(client->SampleWeights("m", SampleOptions()).status(), kSample);
  expect_no_noise(client->StreamWeights("m", SampleOptions()).status(), kSample);
  expect_no_noise(client->SampleWeightsAsync("m", SampleOptions()).get().status(), kSample);
  constexpr absl::string_view kClassify = "ClassifyOptions.noise: set seed or z";
  expect_no_noise(client->Classify("m", images, ClassifyOptions()).status(), kClassify);
  expect_no_noise(client->ClassifyAsync("m", images, ClassifyOptions()).get().status(), kClassify);
  PathOptions path;
  expect_no_noise(client->InterpolatePath("m", path).status(), "PathOptions.start: set seed or z");
  path.start = Noise::FromSeed(1);
  expect_no_noise(client->InterpolatePath("m", path).status(), "PathOptions.end: set seed or z");
}

TEST(ClientTest, ClassifyConvertsPredictionsAndMembers) {
  FakeServer server;
  auto client = MustConnect(FastOptions({server.address()}));
  std::vector<uint8_t> pixels(12 * 4, 128);
  ClassifyOptions options;
  options.ensemble_size = 5;
  options.noise = Noise::FromSeed(9);
  options.rule = EnsembleRule::kMajorityVote;
  options.return_members = true;
  absl::StatusOr<ClassifyResult> result =
      client->Classify("fake", *MakeUint8(pixels, {12, 2, 2}), options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->predictions.size(), 12u);
  EXPECT_EQ(result->predictions[11].predicted_class, 1);
  EXPECT_EQ(result->predictions[3].votes[3], 5);
  EXPECT_FLOAT_EQ(result->predictions[0].mutual_information, 0.25f);
  EXPECT_EQ(result->member_predictions.shape, (std::vector<int64_t>{5, 12}));
  EXPECT_EQ(result->model.version, 3);  // The latest: no version pinned.
  absl::MutexLock lock(&server.service().mu);
  EXPECT_EQ(server.service().last_classify.version(), 0);
  EXPECT_EQ(server.service().last_classify.rule(), hnet::v1::MAJORITY_VOTE);
  EXPECT_EQ(server.service().last_classify.inputs().data().size(), 48u);
}

TEST(ClientTest, InterpolatePathConvertsPoints) {
  FakeServer server;
  auto client = MustConnect(FastOptions({server.address()}));
  PathOptions options;
  options.start = Noise::FromSeed(1);
  options.end = Noise::FromZ(*MakeFloat32(std::vector<float>{0.5f}, {1, 1}));
  options.points = 5;
  options.mode = PathMode::kDirect;
  absl::StatusOr<PathResult> result = client->InterpolatePath("fake", options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->points.size(), 5u);
  EXPECT_DOUBLE_EQ(result->points[4].t, 1.0);
  EXPECT_DOUBLE_EQ(result->points[2].direct_accuracy, 0.75);
  EXPECT_EQ(result->evaluated_inputs, 10000);
  absl::MutexLock lock(&server.service().mu);
  EXPECT_EQ(server.service().last_path.end().z().shape_size(), 2);
  EXPECT_EQ(server.service().last_path.mode(), hnet::v1::InterpolatePathRequest::DIRECT);
}

TEST(ClientTest, StreamWeightsDeliversNetworksInOrder) {
  FakeServer server;
  auto client = MustConnect(FastOptions({server.address()}));
  SampleOptions options;
  options.n = 4;
  options.noise = Noise::FromSeed(2);
  absl::StatusOr<std::vector<GeneratedNetwork>> networks = client->StreamWeights("fake", options);
  ASSERT_TRUE(networks.ok()) << networks.status();
  ASSERT_EQ(networks->size(), 4u);
  EXPECT_EQ((*networks)[3].index, 3);
  EXPECT_EQ((*networks)[3].layers[0].weights.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_FLOAT_EQ((*View<float>((*networks)[3].layers[1].weights))[0], 2000 + 30 + 1);
}

TEST(ClientTest, StreamWeightsCallbackErrorCancels) {
  FakeServer server;
  auto client = MustConnect(FastOptions({server.address()}));
  SampleOptions options;
  options.n = 100;
  options.noise = Noise::FromSeed(4);
  int seen = 0;
  absl::Status s = client->StreamWeights("fake", options, [&seen](GeneratedNetwork) {
    return ++seen == 2 ? absl::AbortedError("enough") : absl::OkStatus();
  });
  EXPECT_EQ(s, absl::AbortedError("enough"));
  EXPECT_EQ(seen, 2);
}

TEST(ClientTest, StreamIsNotRetriedAfterDelivering) {
  FakeServer server;
  server.service().stream_fail_after = 2;
  auto client = MustConnect(FastOptions({server.address()}));
  SampleOptions options;
  options.n = 5;
  options.noise = Noise::FromSeed(5);
  int seen = 0;
  absl::Status s = client->StreamWeights("fake", options, [&seen](GeneratedNetwork) {
    ++seen;
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(server.service().calls.load(), 1);
}

TEST(ClientTest, ListModelsDeadlineCoversAllPages) {
  FakeServer server("mnist");
  server.service().list_pages = 5;
  server.service().delay = absl::Milliseconds(150);  // 750 ms for the five pages
  ClientOptions options = FastOptions({server.address()});
  options.deadline = absl::Milliseconds(500);
  auto client = MustConnect(options);
  EXPECT_EQ(client->ListModels().status().code(), absl::StatusCode::kDeadlineExceeded);
  options.deadline = absl::Seconds(10);
  client = MustConnect(options);
  absl::StatusOr<std::vector<ModelInfo>> models = client->ListModels();
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_EQ(models->size(), 5u);
}

}  // namespace
}  // namespace hnet::client
