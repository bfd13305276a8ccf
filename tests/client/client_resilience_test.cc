// Client retries, deadlines, round-robin and async calls against fake servers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>

#include "client/client.h"
#include "tests/client/fake_server.h"

namespace hnet::client {
namespace {

using testing::FakeServer;

SampleOptions Seeded(int32_t n = 1) {
  SampleOptions options;
  options.n = n;
  options.noise = Noise::FromSeed(7);
  return options;
}

ClassifyOptions SeededClassify() {
  ClassifyOptions options;
  options.noise = Noise::FromSeed(8);
  return options;
}

// A TCP port on 127.0.0.1 that takes connections (the kernel completes the handshake) and
// never says a word: no HTTP/2 settings, no answer. gRPC's calls to it keep waiting.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

template <typename T>
bool IsReady(const std::future<T>& future) {
  return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

ClientOptions FastOptions(std::vector<std::string> addresses) {
  ClientOptions options;
  options.addresses = std::move(addresses);
  options.deadline = absl::Seconds(10);
  options.initial_backoff = absl::Milliseconds(5);
  options.max_backoff = absl::Milliseconds(20);
  return options;
}

TEST(ClientResilienceTest, RetriesUnavailableThenSucceeds) {
  FakeServer server;
  server.service().unavailable_first = 2;
  auto client = *Client::Connect(FastOptions({server.address()}));
  absl::StatusOr<std::vector<ModelInfo>> models = client->ListModels();
  EXPECT_TRUE(models.ok()) << models.status();
  EXPECT_EQ(server.service().calls.load(), 3);
}

TEST(ClientResilienceTest, GivesUpAfterMaxAttemptsWithServerMessage) {
  FakeServer server;
  server.service().unavailable_first = 10;
  ClientOptions options = FastOptions({server.address()});
  options.max_attempts = 2;
  auto client = *Client::Connect(options);
  absl::StatusOr<std::vector<ModelInfo>> models = client->ListModels();
  EXPECT_EQ(models.status(), absl::UnavailableError("fake fake warming up"));
  EXPECT_EQ(server.service().calls.load(), 2);
}

TEST(ClientResilienceTest, ListModelsFollowsPageTokensToTheLastPage) {
  FakeServer server;
  server.service().list_pages = 3;
  auto client = *Client::Connect(FastOptions({server.address()}));
  absl::StatusOr<std::vector<ModelInfo>> models = client->ListModels();
  ASSERT_TRUE(models.ok()) << models.status();
  ASSERT_EQ(models->size(), 3u);
  EXPECT_EQ((*models)[2].version_number, 3);
  absl::MutexLock lock(&server.service().mu);
  ASSERT_EQ(server.service().list_requests.size(), 3u);
  EXPECT_EQ(server.service().list_requests[0].page_size(), 100);
  EXPECT_EQ(server.service().list_requests[0].page_token(), "");
  EXPECT_EQ(server.service().list_requests[2].page_token(), "p2");
}

TEST(ClientResilienceTest, ListModelsStopsWhenTheServerRepeatsAPageToken) {
  FakeServer server;
  server.service().list_token_stuck = true;
  auto client = *Client::Connect(FastOptions({server.address()}));
  absl::StatusOr<std::vector<ModelInfo>> models = client->ListModels();
  EXPECT_EQ(models.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(models.status().message().find("page token"), std::string::npos);
  EXPECT_EQ(server.service().calls.load(), 2);
}

TEST(ClientResilienceTest, NoServerIsUnavailable) {
  ClientOptions options = FastOptions({"127.0.0.1:1"});
  options.max_attempts = 2;
  auto client = *Client::Connect(options);
  EXPECT_EQ(client->ListModels().status().code(), absl::StatusCode::kUnavailable);
}

TEST(ClientResilienceTest, DeadlineExceeded) {
  FakeServer server;
  server.service().delay = absl::Seconds(5);
  ClientOptions options = FastOptions({server.address()});
  options.deadline = absl::Milliseconds(200);
  auto client = *Client::Connect(options);
  const absl::Time start = absl::Now();
  EXPECT_EQ(client->ListModels().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(ClientResilienceTest, RoundRobinReachesBothServers) {
  FakeServer a("a"), b("b");
  auto client = *Client::Connect(FastOptions({a.address(), b.address()}));
  for (int i = 0; i < 200 && (a.service().calls == 0 || b.service().calls == 0); ++i) {
    ASSERT_TRUE(client->ListModels().ok());
  }
  EXPECT_GT(a.service().calls.load(), 0);
  EXPECT_GT(b.service().calls.load(), 0);
}

TEST(ClientResilienceTest, DeadServerInListIsSkipped) {
  FakeServer live;
  auto client = *Client::Connect(FastOptions({"127.0.0.1:1", live.address()}));
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<std::vector<ModelInfo>> models = client->ListModels();
    ASSERT_TRUE(models.ok()) << models.status();
  }
  EXPECT_EQ(live.service().calls.load(), 10);
}

TEST(ClientResilienceTest, AsyncCallsRunConcurrently) {
  FakeServer server;
  // Long enough that calls started together are all in the server at once, also on a loaded
  // machine.
  server.service().delay = absl::Seconds(1);
  ClientOptions options = FastOptions({server.address()});
  options.async_threads = 4;
  auto client = *Client::Connect(options);
  std::vector<uint8_t> pixels(3 * 4, 0);
  Tensor inputs = *MakeUint8(pixels, {3, 2, 2});
  std::vector<std::future<absl::StatusOr<ClassifyResult>>> futures;
  for (int i = 0; i < 4; ++i) {
    futures.push_back(client->ClassifyAsync("fake", inputs, SeededClassify()));
  }
  std::future<absl::StatusOr<SampleResult>> sample = client->SampleWeightsAsync("fake", Seeded());
  for (auto& f : futures) {
    absl::StatusOr<ClassifyResult> result = f.get();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->predictions.size(), 3u);
  }
  EXPECT_TRUE(sample.get().ok());
  // One call per async thread at a time: 4 of the 5 overlap, never more.
  EXPECT_EQ(server.service().max_in_flight.load(), 4);
}

TEST(ClientResilienceTest, AsyncCallFinishedBeforeDestructionKeepsItsResult) {
  FakeServer server;
  std::future<absl::StatusOr<SampleResult>> done;
  {
    auto client = *Client::Connect(FastOptions({server.address()}));
    done = client->SampleWeightsAsync("fake", Seeded());
    done.wait();
  }
  EXPECT_TRUE(done.get().ok());
}

TEST(ClientResilienceTest, DestructionCancelsAsyncCallsInFlightAndQueued) {
  FakeServer server;
  server.service().delay = absl::Seconds(60);  // answers long after the test's patience
  ClientOptions options = FastOptions({server.address()});
  options.deadline = absl::Seconds(60);
  options.async_threads = 2;
  auto client = *Client::Connect(options);
  const Tensor images = *MakeUint8(std::vector<uint8_t>(8), {2, 2, 2});
  std::vector<std::future<absl::StatusOr<SampleResult>>> samples;
  std::vector<std::future<absl::StatusOr<ClassifyResult>>> classifications;
  for (int i = 0; i < 3; ++i) {
    samples.push_back(client->SampleWeightsAsync("fake", Seeded()));
    classifications.push_back(client->ClassifyAsync("fake", images, SeededClassify()));
  }
  // Two calls in flight (one per worker), four queued behind them.
  for (int i = 0; i < 1000 && server.service().calls.load() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(server.service().calls.load(), 2);
  const absl::Time start = absl::Now();
  client.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  for (auto& f : samples) {
    ASSERT_TRUE(IsReady(f));
    EXPECT_EQ(f.get().status(), absl::CancelledError("client destroyed"));
  }
  for (auto& f : classifications) {
    ASSERT_TRUE(IsReady(f));
    EXPECT_EQ(f.get().status(), absl::CancelledError("client destroyed"));
  }
  EXPECT_EQ(server.service().calls.load(), 2);  // the queued calls never reached the server
}

TEST(ClientResilienceTest, DestructionCancelsCallsToAServerThatNeverAnswers) {
  SilentListener silent;
  ClientOptions options = FastOptions({silent.address()});
  options.deadline = absl::InfiniteDuration();  // nothing but the destruction ends these calls
  options.async_threads = 2;
  auto client = *Client::Connect(options);
  std::vector<std::future<absl::StatusOr<SampleResult>>> calls;
  for (int i = 0; i < 4; ++i) calls.push_back(client->SampleWeightsAsync("fake", Seeded()));
  absl::SleepFor(absl::Milliseconds(300));  // the first two are connecting or sent
  for (auto& f : calls) EXPECT_FALSE(IsReady(f));
  const absl::Time start = absl::Now();
  client.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  for (auto& f : calls) {
    ASSERT_TRUE(IsReady(f));
    const absl::Status s = f.get().status();
    EXPECT_TRUE(absl::IsCancelled(s) || absl::IsUnavailable(s)) << s;
  }
}

TEST(ClientResilienceTest, AsyncDeadlineStartsWhenTheCallIsMade) {
  FakeServer server;
  server.service().delay = absl::Milliseconds(400);
  ClientOptions options = FastOptions({server.address()});
  options.deadline = absl::Milliseconds(600);
  options.async_threads = 1;  // The calls queue behind each other.
  auto client = *Client::Connect(options);
  std::vector<std::future<absl::StatusOr<SampleResult>>> calls;
  for (int i = 0; i < 3; ++i) calls.push_back(client->SampleWeightsAsync("fake", Seeded()));
  // The third starts after the first two (>= 600 ms): its budget is spent before it runs,
  // rather than a fresh 600 ms from when a worker picked it up.
  calls[0].wait();
  calls[1].wait();
  const absl::StatusOr<SampleResult> third = calls[2].get();
  EXPECT_EQ(third.status().code(), absl::StatusCode::kDeadlineExceeded) << third.status();
}

TEST(ClientResilienceTest, MalformedResponsesAreInternalErrors) {
  FakeServer server;
  server.service().missing_predictions = 1;
  auto client = *Client::Connect(FastOptions({server.address()}));
  const Tensor images = *MakeTensor<uint8_t>(std::vector<uint8_t>(3 * 28 * 28), {3, 28, 28});
  absl::StatusOr<ClassifyResult> result = client->Classify("fake", images, SeededClassify());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal) << result.status();
  EXPECT_NE(result.status().message().find("2 predictions for 3 inputs"), std::string::npos)
      << result.status();
}

TEST(ClientResilienceTest, ClientIsSharedAcrossThreads) {
  FakeServer server;
  auto client = *Client::Connect(FastOptions({server.address()}));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) ok += client->GetModelInfo("fake").ok();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
}

}  // namespace
}  // namespace hnet::client
