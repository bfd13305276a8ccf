// The bar for reloading without a restart: 8 client threads hammer a real server
// (SampleWeights and Classify) while its checkpoint is replaced on disk, by a rename or by an
// in-place rewrite that is first truncated and partially written. No request may fail, and
// afterwards the new checkpoint is served: its content hash, its weights, its predictions.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "core/evaluation.h"
#include "core/log.h"
#include "tests/server/model_lifecycle_util.h"

namespace hnet::server {
namespace {

using testing::ContentHash;
using testing::Context;
using testing::LocalWeights;
using testing::SameWeights;
using testing::Summary;

constexpr int kThreads = 8;
constexpr int64_t kRequestsBeforeSwap = 25;  // Per thread, answered before the replacement.
constexpr int64_t kRequestsAfterSwap = 25;   // Per thread, answered by the new checkpoint.
constexpr int64_t kInputs = 4;
constexpr int64_t kMembers = 3;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Client threads calling SampleWeights and Classify in turn until stopped; they record every
// failure and which checkpoint (content hash) answered.
class Hammer {
 public:
  Hammer(std::shared_ptr<grpc::Channel> channel, std::string new_hash)
      : channel_(std::move(channel)), new_hash_(std::move(new_hash)) {
    torch::manual_seed(17);
    images_ = torch::rand({kInputs, 28, 28});
    for (int t = 0; t < kThreads; ++t) threads_.emplace_back([this, t] { Run(t); });
  }
  ~Hammer() { Stop(); }

  void Stop() {
    stop_.store(true);
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  // Waits until every thread has `count` answers (from the new checkpoint when `new_only`);
  // false after two minutes, so that a broken server fails the test instead of hanging it.
  bool WaitForEach(int64_t count, bool new_only) const {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (std::chrono::steady_clock::now() < give_up) {
      bool all = true;
      for (int t = 0; t < kThreads; ++t) {
        all = all && (new_only ? answered_new_[t].load() : answered_[t].load()) >= count;
      }
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  int64_t answered() const { return Sum(answered_); }
  int64_t answered_new() const { return Sum(answered_new_); }
  std::vector<std::string> failures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }
  std::set<std::string> hashes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hashes_;
  }

 private:
  static int64_t Sum(const std::atomic<int64_t> (&counts)[kThreads]) {
    int64_t n = 0;
    for (const auto& c : counts) n += c.load();
    return n;
  }

  void Run(int t) {
    auto stub = hnet::v1::HyperNet::NewStub(channel_);
    for (int64_t i = 0; !stop_.load(); ++i) {
      grpc::Status status;
      std::string hash;
      if ((i + t) % 2 == 0) {
        hnet::v1::SampleWeightsResponse response;
        status = stub->SampleWeights(Context().get(), testing::SampleRequest("tiny", 0, t, 2),
                                     &response);
        hash = response.model().content_hash();
        if (status.ok() && response.layers_size() != 4) {
          status = grpc::Status(grpc::StatusCode::INTERNAL, "wrong layer count");
        }
      } else {
        hnet::v1::ClassifyRequest request;
        request.set_model("tiny");
        *request.mutable_inputs() = core::TensorToProto(images_);
        request.set_ensemble_size(kMembers);
        request.mutable_noise()->set_seed(t % 3);  // Shared seeds: batched and cached.
        hnet::v1::ClassifyResponse response;
        status = stub->Classify(Context().get(), request, &response);
        hash = response.model().content_hash();
        if (status.ok() && response.predictions_size() != kInputs) {
          status = grpc::Status(grpc::StatusCode::INTERNAL, "wrong prediction count");
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!status.ok()) {
          failures_.push_back(absl::StrCat("thread ", t, " request ", i, ": ", status.error_code(),
                                           " ", status.error_message()));
          continue;
        }
        hashes_.insert(hash);
      }
      answered_[t].fetch_add(1);
      if (hash == new_hash_) answered_new_[t].fetch_add(1);
    }
  }

  const std::shared_ptr<grpc::Channel> channel_;
  const std::string new_hash_;
  at::Tensor images_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> answered_[kThreads] = {};
  std::atomic<int64_t> answered_new_[kThreads] = {};
  mutable std::mutex mu_;
  std::vector<std::string> failures_;
  std::set<std::string> hashes_;
  std::vector<std::thread> threads_;  // Last: started once everything else exists.
};

class HotReloadTest : public testing::ModelLifecycleTest {
 protected:
  void SetUp() override {
    ModelLifecycleTest::SetUp();
    options_.lifecycle.watch_interval_s = 0.2;  // The real poller, not test-driven rescans.
    old_hash_ = ContentHash(ModelPath("tiny"));
    old_copy_ = (dir_ / "old.bin").string();  // To tell the old weights apart later.
    std::filesystem::copy_file(ModelPath("tiny"), old_copy_);
    // The replacement, next to the model under a name the watcher ignores.
    incoming_ = (dir_ / "incoming.tmp").string();
    testing::WriteTinyCheckpoint(incoming_, /*torch_seed=*/99);
    new_hash_ = ContentHash(incoming_);
    ASSERT_NE(new_hash_, old_hash_);
  }

  // After the hammer: no failed request, both checkpoints answered, and now the new one
  // answers with its own weights and predictions.
  void ExpectNewCheckpointServedWithoutFailures(const Hammer& hammer) {
    const std::vector<std::string> failures = hammer.failures();
    EXPECT_TRUE(failures.empty()) << failures.size() << " failed requests, e.g. "
                                  << failures.front();
    EXPECT_EQ(hammer.hashes(), (std::set<std::string>{old_hash_, new_hash_}));
    ASSERT_EQ(ContentHash(ModelPath("tiny")), new_hash_);
    grpc::Status status;
    auto response = Sample("tiny", 0, 123, &status, 5);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.model().name(), "tiny");
    EXPECT_EQ(response.model().version(), 1);
    EXPECT_EQ(response.model().content_hash(), new_hash_);
    EXPECT_TRUE(SameWeights(response, LocalWeights(ModelPath("tiny"), 123, 5)));
    EXPECT_FALSE(SameWeights(response, LocalWeights(old_copy_, 123, 5)));

    torch::manual_seed(5);
    const at::Tensor images = torch::rand({8, 1, 28, 28});
    hnet::v1::ClassifyRequest request;
    request.set_model("tiny");
    *request.mutable_inputs() = core::TensorToProto(images);
    request.set_ensemble_size(kMembers);
    request.mutable_noise()->set_seed(1);  // A seed the hammer used before the swap too.
    hnet::v1::ClassifyResponse classified;
    ASSERT_TRUE(stub_->Classify(Context().get(), request, &classified).ok());
    EXPECT_EQ(classified.model().content_hash(), new_hash_);
    core::HyperNetwork local = testing::LoadLocal(ModelPath("tiny"));
    torch::NoGradGuard no_grad;
    core::WeightBatch w = local->forward(local->SampleZ(kMembers, core::MakeGenerator(1)));
    const at::Tensor predicted =
        core::MeanProbability(core::PredictProbabilities(local->layout(), w, images));
    ASSERT_EQ(classified.predictions_size(), 8);
    for (int i = 0; i < 8; ++i) {
      EXPECT_EQ(classified.predictions(i).predicted_class(), predicted[i].item<int64_t>()) << i;
    }
  }

  std::string old_hash_;
  std::string new_hash_;
  std::string old_copy_;
  std::string incoming_;
};

TEST_F(HotReloadTest, RenamedInCheckpointIsServedWithoutAFailedRequest) {
  Start();
  Hammer hammer(channel_, new_hash_);
  ASSERT_TRUE(hammer.WaitForEach(kRequestsBeforeSwap, /*new_only=*/false));
  EXPECT_EQ(hammer.answered_new(), 0);
  std::filesystem::rename(incoming_, ModelPath("tiny"));  // Atomic replacement.
  ASSERT_TRUE(hammer.WaitForEach(kRequestsAfterSwap, /*new_only=*/true))
      << "the new checkpoint was not served; " << hammer.failures().size() << " failures";
  hammer.Stop();
  ExpectNewCheckpointServedWithoutFailures(hammer);
  log::Info("hot reload by rename: {} requests answered, {} by the new checkpoint",
            hammer.answered(), hammer.answered_new());
}

TEST_F(HotReloadTest, TruncatedThenCompletedCheckpointNeverReplacesTheServingOne) {
  Start();
  const std::string bytes = ReadBytes(incoming_);
  Hammer hammer(channel_, new_hash_);
  ASSERT_TRUE(hammer.WaitForEach(kRequestsBeforeSwap, /*new_only=*/false));

  // Rewrite in place: truncate, write half, and make sure the watcher sees that state.
  const int fd = ::open(ModelPath("tiny").c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const size_t half = bytes.size() / 2;
  ASSERT_EQ(::write(fd, bytes.data(), half), static_cast<ssize_t>(half));
  ASSERT_EQ(::fsync(fd), 0);
  hnet::v1::ModelChanges changes;
  ASSERT_TRUE(admin_->ReloadModels(Context().get(), {}, &changes).ok());
  EXPECT_EQ(Summary(changes), "FAILED tiny 1");
  ASSERT_GT(changes.changes_size(), 0);
  EXPECT_NE(changes.changes(0).message().find("truncated"), std::string::npos)
      << changes.changes(0).message();
  const int64_t rescans = server_->watcher().rescans();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (server_->watcher().rescans() < rescans + 2 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(server_->watcher().rescans(), rescans + 2);  // The poller saw it too.
  // Requests go on being answered while the file stays partial. A server that took the
  // half-written file unverified would answer with the new hash its header names.
  const int64_t before = hammer.answered();
  const auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (hammer.answered() <= before && std::chrono::steady_clock::now() < wait_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(hammer.answered() - before, 0) << "no request answered while the file was partial";
  EXPECT_EQ(hammer.answered_new(), 0);

  ASSERT_EQ(::write(fd, bytes.data() + half, bytes.size() - half),
            static_cast<ssize_t>(bytes.size() - half));
  ASSERT_EQ(::close(fd), 0);
  ASSERT_TRUE(hammer.WaitForEach(kRequestsAfterSwap, /*new_only=*/true))
      << "the new checkpoint was not served; " << hammer.failures().size() << " failures";
  hammer.Stop();
  ExpectNewCheckpointServedWithoutFailures(hammer);
  log::Info("hot reload by truncate + rewrite: {} requests answered, {} by the new checkpoint",
            hammer.answered(), hammer.answered_new());
}

}  // namespace
}  // namespace hnet::server
