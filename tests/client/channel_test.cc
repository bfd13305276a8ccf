#include "client/internal/channel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "client/internal/call_registry.h"
#include "client/internal/retry.h"

namespace hnet::client::internal {
namespace {

TEST(ChannelTargetTest, SingleAddressIsUsedVerbatim) {
  EXPECT_EQ(*ChannelTarget({"localhost:50051"}), "localhost:50051");
  EXPECT_EQ(*ChannelTarget({"unix:/tmp/hnet.sock"}), "unix:/tmp/hnet.sock");
}

TEST(ChannelTargetTest, SeveralAddressesBecomeOneStaticList) {
  EXPECT_EQ(*ChannelTarget({"127.0.0.1:1", "127.0.0.2:2"}), "ipv4:127.0.0.1:1,127.0.0.2:2");
  EXPECT_EQ(*ChannelTarget({"[::1]:5", "[::1]:6"}), "ipv6:[::1]:5,[::1]:6");
  absl::StatusOr<std::string> resolved = ChannelTarget({"localhost:7", "127.0.0.1:8"});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(*resolved, "ipv4:127.0.0.1:7,127.0.0.1:8");
}

TEST(ChannelTargetTest, ErrorsNameTheAddress) {
  EXPECT_EQ(ChannelTarget({}).status().code(), absl::StatusCode::kInvalidArgument);
  absl::Status s = ChannelTarget({"127.0.0.1:1", "noport"}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("addresses[1]"), std::string::npos) << s;
  s = ChannelTarget({"127.0.0.1:1", "127.0.0.1:99999"}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = ChannelTarget({"127.0.0.1:1", "no-such-host.invalid:5"}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("addresses[1]"), std::string::npos) << s;
}

TEST(ChannelTargetTest, UrisAndMalformedHostsInAListAreInvalidArgumentNamingTheEntry) {
  for (const std::string& entry : {"dns:///localhost:1", "ipv4:127.0.0.1:5", "dns:localhost:5",
                                   "unix:///tmp/hnet.sock:5", "::1:5", " 127.0.0.1:2"}) {
    const absl::Status s = ChannelTarget({"127.0.0.1:1", entry}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << entry << ": " << s;
    EXPECT_EQ(s.message().rfind("ClientOptions.addresses[1]: '" + entry + "'", 0), 0u) << s;
  }
  // IPv4 and IPv6 cannot share one list.
  const absl::Status mixed = ChannelTarget({"127.0.0.1:1", "[::1]:2"}).status();
  EXPECT_EQ(mixed.code(), absl::StatusCode::kInvalidArgument) << mixed;
  EXPECT_NE(mixed.message().find("address family"), std::string::npos) << mixed;
}

TEST(RetryTest, BackoffGrowsAndIsCapped) {
  ClientOptions options;
  options.initial_backoff = absl::Milliseconds(100);
  options.backoff_multiplier = 2;
  options.max_backoff = absl::Milliseconds(300);
  for (int i = 0; i < 20; ++i) {
    EXPECT_GE(Backoff(options, 1), absl::Milliseconds(80));
    EXPECT_LE(Backoff(options, 1), absl::Milliseconds(120));
    EXPECT_GE(Backoff(options, 2), absl::Milliseconds(160));
    EXPECT_LE(Backoff(options, 2), absl::Milliseconds(240));
    EXPECT_LE(Backoff(options, 10), absl::Milliseconds(360));
  }
}

TEST(RetryTest, StopsOnNonRetryableAndCounts) {
  ClientOptions options;
  options.max_attempts = 5;
  options.initial_backoff = absl::Milliseconds(1);
  int calls = 0;
  grpc::Status s = CallWithRetry(options, absl::Now() + absl::Seconds(5),
                                 [&](grpc::ClientContext*, bool* retryable) {
                                   ++calls;
                                   *retryable = calls < 2;
                                   return grpc::Status(grpc::StatusCode::UNAVAILABLE, "x");
                                 });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  calls = 0;
  s = CallWithRetry(options, absl::Now() + absl::Seconds(5), [&](grpc::ClientContext*, bool*) {
    ++calls;
    return grpc::Status(grpc::StatusCode::INTERNAL, "y");
  });
  EXPECT_EQ(calls, 1);
}

TEST(RetryTest, BackoffNeverOutlivesTheDeadline) {
  ClientOptions options;
  options.max_attempts = 100;
  options.initial_backoff = absl::Seconds(60);  // At least 48 s with jitter.
  options.max_backoff = absl::Seconds(60);
  int calls = 0;
  const absl::Time start = absl::Now();
  CallWithRetry(options, start + absl::Seconds(10), [&](grpc::ClientContext*, bool*) {
    ++calls;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "x");
  });
  EXPECT_EQ(calls, 1);
  // Gives up at once: sleeping towards the deadline would take 10 s (wide margin for a busy
  // machine).
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(RetryTest, ShutdownCutsTheBackoffShortAndStartsNoMoreAttempts) {
  ClientOptions options;
  options.max_attempts = 100;
  options.initial_backoff = absl::Seconds(60);
  options.max_backoff = absl::Seconds(60);
  CallRegistry calls;
  std::atomic<int> attempts{0};
  grpc::Status status;
  std::thread caller([&] {
    status = CallWithRetry(
        options, absl::InfiniteFuture(),
        [&](grpc::ClientContext*, bool*) {
          ++attempts;
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "x");
        },
        &calls);
  });
  while (attempts.load() == 0) absl::SleepFor(absl::Milliseconds(1));
  const absl::Time start = absl::Now();
  calls.Shutdown();  // the caller is in its 48-72 s backoff
  caller.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(attempts.load(), 1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(status.error_message(), "client destroyed");
  status = CallWithRetry(
      options, absl::InfiniteFuture(),
      [&](grpc::ClientContext*, bool*) {
        ++attempts;
        return grpc::Status::OK;
      },
      &calls);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(attempts.load(), 1);  // after the shutdown no attempt starts
}

}  // namespace
}  // namespace hnet::client::internal
