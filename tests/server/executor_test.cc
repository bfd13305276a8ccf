#include "server/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "server/status_util.h"
#include "server/weight_cache.h"
#include "tests/server/held_workers.h"

namespace hnet::server {
namespace {

TEST(ExecutorTest, RunsTasksOnItsWorkersAndReturnsResults) {
  Executor executor({/*workers=*/2, /*queue_capacity=*/16});
  const auto caller = std::this_thread::get_id();
  auto result = RunOn<int>(executor, nullptr, [&](const Cancellation&) -> absl::StatusOr<int> {
    EXPECT_NE(std::this_thread::get_id(), caller);
    return 42;
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
}

TEST(ExecutorTest, RefusesWorkWhenTheQueueIsFull) {
  Executor executor({/*workers=*/1, /*queue_capacity=*/2});
  std::atomic<bool> release{false};
  std::atomic<int> ran{0};
  auto blocker = [&] {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ran.fetch_add(1);
  };
  ASSERT_TRUE(executor.Submit(blocker).ok());  // Running (eventually) on the only worker.
  while (executor.queued() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(executor.Submit(blocker).ok());
  ASSERT_TRUE(executor.Submit(blocker).ok());
  absl::Status full = executor.Submit(blocker);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("--queue_capacity"), std::string::npos);
  EXPECT_TRUE(IsQueueFull(full));
  EXPECT_FALSE(IsQueueFull(absl::ResourceExhaustedError(full.message())));
  release = true;
  executor.Shutdown();  // Runs what was queued.
  EXPECT_EQ(ran.load(), 3);
  EXPECT_EQ(executor.Submit(blocker).code(), absl::StatusCode::kUnavailable);
}

TEST(ExecutorTest, AWaiterThatGivesUpCancelsItsTask) {
  Executor executor({1, 4});
  std::atomic<bool> saw_cancel{false};
  int polls = 0;
  auto result = RunOn<int>(
      executor, [&] { return ++polls > 2 ? absl::CancelledError("gone") : absl::OkStatus(); },
      [&](const Cancellation& c) -> absl::StatusOr<int> {
        while (!c.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        saw_cancel = true;
        return 0;
      });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
  executor.Shutdown();
  EXPECT_TRUE(saw_cancel.load());
}

TEST(ExecutorTest, RunAsyncHandsTheResultToDoneOnAWorkerWithoutWaiting) {
  Executor executor({/*workers=*/1, /*queue_capacity=*/4});
  std::atomic<bool> release{false};
  std::promise<std::pair<int, std::thread::id>> done;
  const absl::Status submitted = RunAsync<int>(
      executor, std::make_shared<Cancellation>(),
      [&](const Cancellation&) -> absl::StatusOr<int> {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return 7;
      },
      [&](absl::StatusOr<int> result) {
        done.set_value({result.value_or(-1), std::this_thread::get_id()});
      });
  ASSERT_TRUE(submitted.ok());
  release = true;  // Only reachable because RunAsync returned before the task finished.
  const auto [value, thread] = done.get_future().get();
  EXPECT_EQ(value, 7);
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(ExecutorTest, RunAsyncSkipsATaskCancelledBeforeItStarts) {
  Executor executor({/*workers=*/1, /*queue_capacity=*/4});
  std::atomic<bool> release{false};
  auto blocker = [&] {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  ASSERT_TRUE(executor.Submit(blocker).ok());  // Holds the only worker.
  auto cancellation = std::make_shared<Cancellation>();
  std::atomic<bool> ran{false};
  std::promise<absl::Status> done;
  ASSERT_TRUE(RunAsync<int>(
                  executor, cancellation,
                  [&](const Cancellation&) -> absl::StatusOr<int> {
                    ran = true;
                    return 1;
                  },
                  [&](absl::StatusOr<int> result) { done.set_value(result.status()); })
                  .ok());
  cancellation->Cancel();
  release = true;
  EXPECT_EQ(done.get_future().get().code(), absl::StatusCode::kCancelled);
  EXPECT_FALSE(ran.load());
}

TEST(ExecutorTest, TasksWhoseCallersGaveUpHoldNoPlaceInTheQueue) {
  Executor executor({/*workers=*/1, /*queue_capacity=*/2});
  testing::HeldWorkers held(executor, 1);
  ASSERT_TRUE(held.ok());
  std::atomic<int> ran{0};
  std::vector<absl::Status> done(3, absl::UnknownError("done not called"));
  std::vector<std::shared_ptr<Cancellation>> cancellations;
  auto submit = [&](int i) {
    cancellations.push_back(std::make_shared<Cancellation>());
    return RunAsync<int>(
        executor, cancellations.back(),
        [&](const Cancellation&) -> absl::StatusOr<int> {
          ran.fetch_add(1);
          return 1;
        },
        [&done, i](absl::StatusOr<int> result) { done[i] = result.status(); });
  };
  ASSERT_TRUE(submit(0).ok());
  ASSERT_TRUE(submit(1).ok());
  EXPECT_TRUE(IsQueueFull(submit(2)));  // Both callers still wait.
  cancellations[0]->Cancel();           // Their deadlines pass (RunOn) or OnCancel (reactor).
  cancellations[1]->Cancel();
  ASSERT_TRUE(submit(2).ok());
  // The abandoned tasks reported their cancellation before Submit returned, without running.
  EXPECT_EQ(done[0].code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(done[1].code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(executor.queued(), 1);
  // Tasks without a cancellation keep their places.
  ASSERT_TRUE(executor.Submit([] {}).ok());
  EXPECT_TRUE(IsQueueFull(executor.Submit([] {})));
  held.Release();
  executor.Shutdown();
  EXPECT_TRUE(done[2].ok()) << done[2];
  EXPECT_EQ(ran.load(), 1);
}

TEST(ExecutorTest, RunAsyncReportsARefusedSubmissionAndNeverCallsDone) {
  Executor executor({1, 1});
  executor.Shutdown();
  bool called = false;
  const absl::Status submitted = RunAsync<int>(
      executor, std::make_shared<Cancellation>(),
      [](const Cancellation&) -> absl::StatusOr<int> { return 1; },
      [&](absl::StatusOr<int>) { called = true; });
  EXPECT_EQ(submitted.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(called);
}

TEST(ExecutorTest, ATaskThatThrowsFailsItsCallAndTheWorkerCarriesOn) {
  Executor executor({/*workers=*/1, /*queue_capacity=*/4});
  auto thrown = RunOn<int>(executor, nullptr, [](const Cancellation&) -> absl::StatusOr<int> {
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(thrown.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(thrown.status().message().find("boom"), std::string::npos) << thrown.status();
  ASSERT_TRUE(executor.Submit([] { throw std::logic_error("a bare task"); }).ok());
  auto after =
      RunOn<int>(executor, nullptr, [](const Cancellation&) -> absl::StatusOr<int> { return 7; });
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, 7);
}

TEST(StatusUtilTest, MapsAbslCodesOntoGrpcCodes) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  grpc::Status s = ToGrpcStatus(absl::NotFoundError("model 'x' is not loaded"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "model 'x' is not loaded");
  EXPECT_EQ(ToGrpcStatus(absl::ResourceExhaustedError("")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToGrpcStatus(FieldError("points", "must be >= 2")).error_message(),
            "points: must be >= 2");
}

TEST(WeightCacheTest, EvictsTheLeastRecentlyUsedBatch) {
  auto batch = [](int64_t floats) {
    return std::make_shared<const core::WeightBatch>(
        core::WeightBatch{torch::zeros({floats}, torch::kFloat32)});
  };
  WeightCache cache(1000);  // Bytes: two batches of 100 floats fit, three do not.
  cache.Put("a", batch(100));
  cache.Put("b", batch(100));
  ASSERT_NE(cache.Get("a"), nullptr);  // "b" is now least recently used.
  cache.Put("c", batch(100));
  EXPECT_NE(cache.Get("a"), nullptr);
  EXPECT_EQ(cache.Get("b"), nullptr);
  EXPECT_NE(cache.Get("c"), nullptr);
  cache.Put("huge", batch(1000));
  EXPECT_EQ(cache.Get("huge"), nullptr);
  EXPECT_EQ(cache.size_bytes(), 800);
}

TEST(WeightCacheTest, ErasedPrefixesTakeNoLaterEntries) {
  auto batch = std::make_shared<const core::WeightBatch>(
      core::WeightBatch{torch::zeros({10}, torch::kFloat32)});
  WeightCache cache(1000);
  cache.Put("model@1|seed 1", batch);
  cache.Put("model@2|seed 1", batch);
  cache.EraseByPrefix("model@1|");     // Unloaded while a generation for it is still running:
  cache.Put("model@1|seed 2", batch);  // its Put is dropped, not kept until evicted.
  EXPECT_EQ(cache.Get("model@1|seed 1"), nullptr);
  EXPECT_EQ(cache.Get("model@1|seed 2"), nullptr);
  EXPECT_NE(cache.Get("model@2|seed 1"), nullptr);
  EXPECT_EQ(cache.entries(), 1);
}

}  // namespace
}  // namespace hnet::server
