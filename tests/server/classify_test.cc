// Classify against the local core computation (SharedForward + the ensemble rules), with
// dynamic batching of concurrent requests.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <thread>

#include "core/evaluation.h"
#include "core/rng.h"
#include "server/classify_batcher.h"
#include "server/ensemble.h"
#include "tests/server/held_workers.h"
#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

using testing::Context;
using testing::FromProto;

// What Classify should answer, computed with core only.
struct Expected {
  at::Tensor probs;  // [K, N, C]
  at::Tensor predicted;
};

Expected Local(const std::string& path, uint64_t seed, int64_t k, const at::Tensor& images,
               hnet::v1::EnsembleRule rule) {
  core::HyperNetwork model = testing::LoadLocal(path);
  torch::NoGradGuard no_grad;
  core::WeightBatch w = model->forward(model->SampleZ(k, core::MakeGenerator(seed)));
  Expected e;
  e.probs = core::PredictProbabilities(model->layout(), w, images);
  e.predicted = rule == hnet::v1::MAJORITY_VOTE    ? core::MajorityVote(e.probs)
                : rule == hnet::v1::MOST_CONFIDENT ? core::MostConfident(e.probs)
                                                   : core::MeanProbability(e.probs);
  return e;
}

hnet::v1::ClassifyRequest Request(const at::Tensor& inputs, uint64_t seed, int k,
                                  hnet::v1::EnsembleRule rule, bool members = false) {
  hnet::v1::ClassifyRequest request;
  request.set_model("tiny");
  *request.mutable_inputs() = core::TensorToProto(inputs);
  request.set_ensemble_size(k);
  request.mutable_noise()->set_seed(seed);
  request.set_rule(rule);
  request.set_return_members(members);
  return request;
}

void ExpectMatches(const hnet::v1::ClassifyResponse& response, const Expected& e) {
  const int64_t k = e.probs.size(0), n = e.probs.size(1), classes = e.probs.size(2);
  ASSERT_EQ(response.predictions_size(), n);
  at::Tensor mean = e.probs.mean(0);
  at::Tensor votes = torch::one_hot(e.probs.argmax(-1), classes).sum(0);
  at::Tensor entropy = -torch::special_xlogy(mean, mean).sum(-1);  // 0 log 0 = 0.
  at::Tensor member_entropy = -torch::special_xlogy(e.probs, e.probs).sum(-1).mean(0);
  for (int64_t i = 0; i < n; ++i) {
    const hnet::v1::Prediction& p = response.predictions(i);
    EXPECT_EQ(p.predicted_class(), e.predicted[i].item<int64_t>()) << "input " << i;
    ASSERT_EQ(p.probabilities_size(), classes);
    for (int64_t c = 0; c < classes; ++c) {
      EXPECT_NEAR(p.probabilities(c), mean[i][c].item<float>(), 1e-5);
      EXPECT_EQ(p.votes(c), votes[i][c].item<int64_t>());
    }
    EXPECT_FLOAT_EQ(p.agreement(),
                    votes[i][p.predicted_class()].item<int64_t>() / static_cast<float>(k));
    EXPECT_NEAR(p.predictive_entropy(), entropy[i].item<float>(), 1e-4);
    EXPECT_NEAR(p.mutual_information(),
                std::max(0.0f, (entropy[i] - member_entropy[i]).item<float>()), 1e-4);
  }
}

class ClassifyTest : public testing::ServerTest {};

TEST_F(ClassifyTest, EqualsLocalSharedForwardAndEachRule) {
  StartServer();
  torch::manual_seed(3);
  at::Tensor images = torch::randint(0, 256, {24, 28, 28}, torch::kUInt8);
  at::Tensor scaled = images.to(torch::kFloat32).div(255).unsqueeze(1);
  for (auto rule :
       {hnet::v1::MAJORITY_VOTE, hnet::v1::MEAN_PROBABILITY, hnet::v1::MOST_CONFIDENT}) {
    hnet::v1::ClassifyResponse response;
    grpc::Status status =
        stub_->Classify(Context().get(), Request(images, 21, 15, rule, true), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const Expected e = Local(ModelPath("tiny"), 21, 15, scaled, rule);
    ExpectMatches(response, e);
    at::Tensor members = FromProto(response.member_predictions());
    EXPECT_EQ(members.scalar_type(), torch::kInt32);
    EXPECT_TRUE(torch::equal(members, e.probs.argmax(-1).to(torch::kInt32)));
  }
  // float32 [N, 1, 28, 28] inputs give the same answer as the uint8 ones.
  hnet::v1::ClassifyResponse a, b;
  ASSERT_TRUE(
      stub_->Classify(Context().get(), Request(images, 21, 15, hnet::v1::MAJORITY_VOTE), &a).ok());
  ASSERT_TRUE(
      stub_->Classify(Context().get(), Request(scaled, 21, 15, hnet::v1::MAJORITY_VOTE), &b).ok());
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_FALSE(a.has_member_predictions());
}

TEST_F(ClassifyTest, ConcurrentClientsGetTheirOwnAnswers) {
  options_.batching.batch_delay_ms = 100;  // Wide enough that concurrent calls merge.
  StartServer();
  constexpr int kClients = 8;
  std::vector<at::Tensor> inputs;
  std::vector<Expected> expected;
  for (int c = 0; c < kClients; ++c) {
    torch::manual_seed(100 + c);
    inputs.push_back(torch::rand({5 + c, 1, 28, 28}));
    const uint64_t seed = c % 4 == 3 ? 99 : 5;  // Most share (seed, K): batchable.
    expected.push_back(Local(ModelPath("tiny"), seed, 12, inputs.back(), hnet::v1::MAJORITY_VOTE));
  }
  std::vector<hnet::v1::ClassifyResponse> responses(kClients);
  std::vector<grpc::Status> statuses(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      const uint64_t seed = c % 4 == 3 ? 99 : 5;
      statuses[c] = stub_->Classify(
          Context().get(), Request(inputs[c], seed, 12, hnet::v1::MAJORITY_VOTE), &responses[c]);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int c = 0; c < kClients; ++c) {
    ASSERT_TRUE(statuses[c].ok()) << statuses[c].error_message();
    ExpectMatches(responses[c], expected[c]);
  }
  EXPECT_LT(server_->batcher().batches_run(), kClients);
}

// A batcher over tiny.hnet with one worker, dispatching batches on size only.
class ClassifyBatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/hnet_batcher_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    testing::WriteTinyCheckpoint(path());
    model_ = LoadModel(path(), "tiny", {}).value();
  }
  void TearDown() override {
    executor_.Shutdown();
    std::filesystem::remove_all(dir_);
  }
  std::string path() const { return dir_ + "/tiny.hnet"; }
  // Dispatches when `inputs` images are pending, never on time.
  std::unique_ptr<ClassifyBatcher> Batcher(int64_t inputs) {
    BatchingOptions options;
    options.max_batch_inputs = inputs;
    options.batch_delay_ms = 60000;
    return std::make_unique<ClassifyBatcher>(&executor_, &cache_, options);
  }

  std::string dir_;
  std::shared_ptr<const LoadedModel> model_;
  Executor executor_{{1, 16}};
  WeightCache cache_{1 << 20};
};

TEST_F(ClassifyBatcherTest, MergesRequestsWithTheSameNoiseIntoOnePass) {
  auto batcher = Batcher(4 * 6);
  std::vector<std::shared_ptr<ResultSlot<EnsembleResult>>> slots;
  std::vector<at::Tensor> images;
  for (int i = 0; i < 4; ++i) {
    ClassifyJob job;
    job.model = model_;
    job.noise.seed = 8;
    job.noise.count = 7;
    job.images = torch::rand({6, 1, 28, 28});
    job.rule = i % 2 ? hnet::v1::MOST_CONFIDENT : hnet::v1::MAJORITY_VOTE;
    images.push_back(job.images);
    slots.push_back(batcher->Submit(std::move(job)));
  }
  for (int i = 0; i < 4; ++i) {
    auto result = slots[i]->Wait(nullptr, nullptr);
    ASSERT_TRUE(result.ok()) << result.status();
    const auto rule = i % 2 ? hnet::v1::MOST_CONFIDENT : hnet::v1::MAJORITY_VOTE;
    EXPECT_TRUE(torch::equal(result->predicted, Local(path(), 8, 7, images[i], rule).predicted));
  }
  EXPECT_EQ(batcher->batches_run(), 1);
  EXPECT_GT(cache_.size_bytes(), 0);  // The ensemble's weights are cached for the next call.
}

TEST_F(ClassifyBatcherTest, ABatchWhoseRequestsAllGaveUpHoldsNoPlaceInAFullQueue) {
  auto batcher = Batcher(5);  // One request fills a batch.
  testing::HeldWorkers held(executor_, 1);
  ASSERT_TRUE(held.ok());
  for (int i = 0; i < 15; ++i) ASSERT_TRUE(executor_.Submit([] {}).ok());
  ClassifyJob job;
  job.model = model_;
  job.noise.seed = 8;
  job.noise.count = 3;
  job.images = torch::rand({5, 1, 28, 28});
  const std::shared_ptr<Cancellation> cancellation = job.cancellation;
  auto slot = batcher->Submit(std::move(job));
  for (int i = 0; i < 5000 && executor_.queued() < 16; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(executor_.queued(), 16);  // The batch is queued; the queue is full.
  EXPECT_TRUE(IsQueueFull(executor_.Submit([] {})));
  cancellation->Cancel();  // Its only caller gave up.
  EXPECT_TRUE(executor_.Submit([] {}).ok());
  // Reported at once, without a pass (the worker is still held).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto result = slot->Wait(
      [&] {
        return std::chrono::steady_clock::now() < deadline
                   ? absl::OkStatus()
                   : absl::DeadlineExceededError("the batch was not reported");
      },
      nullptr);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled) << result.status();
  EXPECT_EQ(batcher->batches_run(), 0);
}

TEST_F(ClassifyBatcherTest, ARequestWithBadPixelsFailsAloneAndTheBatchRuns) {
  auto batcher = Batcher(3 * 5);  // The three requests share one batch.
  const at::Tensor good = torch::randint(0, 256, {5, 1, 28, 28}, torch::kUInt8);
  at::Tensor nan = torch::rand({5, 1, 28, 28});
  nan[2][0][3][4] = std::numeric_limits<float>::quiet_NaN();
  const at::Tensor too_bright = torch::rand({5, 1, 28, 28}) + 1;
  std::vector<std::shared_ptr<ResultSlot<EnsembleResult>>> slots;
  for (const at::Tensor& images : {nan, good, too_bright}) {
    ClassifyJob job;
    job.model = model_;
    job.noise.seed = 8;
    job.noise.count = 3;
    job.images = images;
    slots.push_back(batcher->Submit(std::move(job)));
  }
  auto bad = slots[0]->Wait(nullptr, nullptr);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("finite"), std::string::npos) << bad.status();
  auto ok = slots[1]->Wait(nullptr, nullptr);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(torch::equal(ok->predicted, Local(path(), 8, 3, good.to(torch::kFloat32).div_(255.0),
                                                hnet::v1::MEAN_PROBABILITY)
                                              .predicted));
  auto range = slots[2]->Wait(nullptr, nullptr);
  EXPECT_EQ(range.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(range.status().message().find("[0, 1]"), std::string::npos) << range.status();
  EXPECT_EQ(batcher->batches_run(), 1);
}

}  // namespace
}  // namespace hnet::server
