// SampleWeights on the callback API keeps the unary handlers' call handling: a request that
// does not parse, expired deadlines, draining and shutdown, and what each call records.
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "tests/server/held_workers.h"
#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

using testing::Bytes;
using testing::Context;
using testing::TinyRequest;

// SampleWeights with `bytes` as the serialized request, through the generic stub.
grpc::Status RawSampleWeights(grpc::Channel* channel, const std::string& bytes) {
  grpc::GenericStub stub(channel->shared_from_this());
  const grpc::ByteBuffer request = Bytes(bytes);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  auto context = Context();
  stub.UnaryCall(context.get(), "/hnet.v1.HyperNet/SampleWeights", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

class SampleWeightsCallTest : public testing::ServerTest {
 protected:
  // hnet_requests_total of SampleWeights for `model` and `code`.
  double Count(const std::string& model, const std::string& code) const {
    return server_->metrics().requests().Value({"SampleWeights", model, code});
  }

  // Whether `counted` holds within 10 s (calls are counted when the server ends them, which
  // can be after the client saw the status).
  static bool Eventually(const std::function<bool()>& counted) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!counted()) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  // hnet_executor_queue_depth as the server renders it.
  double QueueDepth() const {
    const std::string text = server_->metrics().Render();
    const std::string key = "\nhnet_executor_queue_depth ";
    const size_t at = text.find(key);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + key.size()));
  }
};

TEST_F(SampleWeightsCallTest, ARequestThatDoesNotParseIsInvalidArgument) {
  StartServer();
  const grpc::Status status = RawSampleWeights(channel_.get(), std::string("\x0a\xff\xff", 3));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("SampleWeightsRequest"), std::string::npos)
      << status.error_message();
  EXPECT_TRUE(Eventually([&] { return Count("-", "INVALID_ARGUMENT") == 1; }));
  const grpc::Status ok = RawSampleWeights(channel_.get(), TinyRequest(2, 1).SerializeAsString());
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_TRUE(Eventually([&] { return Count("tiny", "OK") == 1; }));
  EXPECT_EQ(server_->metrics().networks_generated().Value({"tiny"}), 2);
}

TEST_F(SampleWeightsCallTest, AnExpiredDeadlineEndsTheCallWithoutResponse) {
  StartServer();
  hnet::v1::SampleWeightsResponse response;
  ASSERT_TRUE(stub_->SampleWeights(Context().get(), TinyRequest(2, 3), &response).ok());
  // Both workers held: the call reaches the server (connected, 3 s to spare) and waits in the
  // queue until its deadline passes, however loaded the machine is.
  testing::HeldWorkers held(server_->executor(), 2);
  ASSERT_TRUE(held.ok());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  const grpc::Status status = stub_->SampleWeights(&context, TinyRequest(700, 3), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // DEADLINE_EXCEEDED when the server's deadline passes first, CANCELLED when the client's
  // cancellation arrives first (as with the unary handlers); never OK.
  EXPECT_TRUE(Eventually(
      [&] { return Count("tiny", "DEADLINE_EXCEEDED") + Count("tiny", "CANCELLED") == 1; }));
  held.Release();
  EXPECT_TRUE(stub_->SampleWeights(Context().get(), TinyRequest(2, 3), &response).ok());
  EXPECT_EQ(response.layers_size(), 4);
  EXPECT_EQ(Count("tiny", "OK"), 2);  // The calls before and after, not the expired one.
  EXPECT_EQ(server_->metrics().networks_generated().Value({"tiny"}), 4);
}

TEST_F(SampleWeightsCallTest, WhileDrainingNewCallsAreRefusedAsUnavailable) {
  StartServer();
  auto context = Context();
  auto reader = stub_->StreamWeights(context.get(), TinyRequest(300, 5));
  hnet::v1::GeneratedNetwork network;
  ASSERT_TRUE(reader->Read(&network));  // Keeps the server draining until it is read.
  std::thread shutdown([&] { server_->Shutdown(); });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (testing::HealthStatus(channel_.get(), "") != 2 &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  hnet::v1::SampleWeightsResponse response;
  const grpc::Status status = stub_->SampleWeights(Context(5).get(), TinyRequest(2, 5), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("shutting down"), std::string::npos)
      << status.error_message();
  EXPECT_TRUE(Eventually([&] { return Count("-", "UNAVAILABLE") == 1; }));
  while (reader->Read(&network)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
  shutdown.join();
}

TEST_F(SampleWeightsCallTest, ShutdownWaitsForTheCallsInFlight) {
  options_.workers = 1;  // The calls queue up: the last ends long after the drain starts.
  StartServer();
  constexpr int kCalls = 6;
  std::vector<std::future<int64_t>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [this, i] {
      hnet::v1::SampleWeightsResponse response;
      const grpc::Status status =
          stub_->SampleWeights(Context().get(), TinyRequest(600, 10 + i), &response);
      EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
      return response.layers_size() == 4 ? response.layers(3).weights().shape(0) : int64_t{0};
    }));
  }
  // Every call admitted: one running, the others queued or done.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (QueueDepth() + Count("tiny", "OK") < kCalls - 1) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "the calls never queued up";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server_->Shutdown();
  for (std::future<int64_t>& call : calls) EXPECT_EQ(call.get(), 600);
  EXPECT_EQ(Count("tiny", "OK"), kCalls);
}

}  // namespace
}  // namespace hnet::server
