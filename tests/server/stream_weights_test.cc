// StreamWeights under load: the cap on concurrent streams, and a full work queue.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

using testing::Context;
using testing::TinyRequest;

class StreamWeightsTest : public testing::ServerTest {};

TEST_F(StreamWeightsTest, StreamsPastMaxStreamsAreRefusedUntilOneEnds) {
  options_.limits.max_streams = 1;
  StartServer();
  auto first_context = Context();
  auto first = stub_->StreamWeights(first_context.get(), TinyRequest(300, 1));
  hnet::v1::GeneratedNetwork network;
  ASSERT_TRUE(first->Read(&network));  // Being served: 300 networks do not fit in the buffers.

  auto refused_context = Context();
  auto refused = stub_->StreamWeights(refused_context.get(), TinyRequest(3, 2));
  EXPECT_FALSE(refused->Read(&network));
  const grpc::Status status = refused->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max_streams"), std::string::npos)
      << status.error_message();

  int count = 1;
  while (first->Read(&network)) ++count;
  EXPECT_TRUE(first->Finish().ok());
  EXPECT_EQ(count, 300);
  auto next_context = Context();
  auto next = stub_->StreamWeights(next_context.get(), TinyRequest(3, 2));
  count = 0;
  while (next->Read(&network)) ++count;
  EXPECT_TRUE(next->Finish().ok());
  EXPECT_EQ(count, 3);
}

TEST_F(StreamWeightsTest, AFullQueueDelaysAStreamInsteadOfEndingIt) {
  options_.workers = 1;
  options_.queue_capacity = 1;
  StartServer();
  auto context = Context(120);
  auto stream = stub_->StreamWeights(context.get(), TinyRequest(640, 3));
  hnet::v1::GeneratedNetwork network;
  ASSERT_TRUE(stream->Read(&network));
  // Other callers keep the one-slot queue full while the stream asks for its next chunks.
  std::atomic<bool> done{false};
  std::atomic<int> refused{0};
  std::vector<std::thread> load;
  for (int i = 0; i < 3; ++i) {
    load.emplace_back([&] {
      while (!done.load()) {
        hnet::v1::SampleWeightsResponse response;
        const grpc::Status s = stub_->SampleWeights(Context().get(), TinyRequest(64, 4), &response);
        if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) refused.fetch_add(1);
      }
    });
  }
  int count = 1;
  while (stream->Read(&network)) {
    EXPECT_EQ(network.index(), count);  // Not ASSERT: the load threads must be joined.
    ++count;
  }
  done = true;
  for (std::thread& t : load) t.join();
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(count, 640);
  EXPECT_GT(refused.load(), 0) << "the queue was never full: the test proves nothing";
}

}  // namespace
}  // namespace hnet::server
