// A fixed pool of worker threads with a bounded queue, where the heavy work of the server
// (hypernetwork forwards, classification) runs; gRPC threads wait for results (RunOn) or hand
// the call over to the task's completion (RunAsync).
#ifndef HNET_SERVER_EXECUTOR_H_
#define HNET_SERVER_EXECUTOR_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/torch_status.h"
#include "server/metrics.h"

namespace hnet::server {

// Set by the waiting side when its caller gave up; long tasks poll it between chunks.
class Cancellation {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
};

// Non-OK once the waiting caller should stop (cancelled call, expired deadline).
using StopCheck = std::function<absl::Status()>;

// A one-shot result handed from a worker to a waiting thread.
template <typename T>
class ResultSlot {
 public:
  // Stores the result (first call wins) and wakes the waiter.
  void Set(absl::StatusOr<T> result) {
    std::lock_guard<std::mutex> lock(mu_);
    if (result_.has_value()) return;
    result_.emplace(std::move(result));
    cv_.notify_all();
  }
  // Blocks until Set() or until `stop` reports non-OK (polled every `poll`); in the latter
  // case cancels `cancellation` and returns stop's status.
  absl::StatusOr<T> Wait(const StopCheck& stop, Cancellation* cancellation,
                         std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, poll, [&] { return result_.has_value(); })) {
      if (!stop) continue;
      if (absl::Status s = stop(); !s.ok()) {
        if (cancellation != nullptr) cancellation->Cancel();
        return s;
      }
    }
    return std::move(*result_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<absl::StatusOr<T>> result_;
};

class Executor {
 public:
  struct Options {
    int workers = 2;              // Threads; at least 1.
    int64_t queue_capacity = 64;  // Tasks waiting (not running) at most; at least 1.
  };

  explicit Executor(Options options);
  ~Executor();  // Shutdown().
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Whether every caller of a queued task gave up; once true it must stay true. Called under
  // the executor's lock: it must be quick and take no lock.
  using Abandoned = std::function<bool()>;

  // Queues `task`. RESOURCE_EXHAUSTED when the queue is full (IsQueueFull), UNAVAILABLE after
  // Shutdown(). An exception escaping `task` is logged and dropped. With `abandoned`, the task
  // holds its place only until that returns true: a Submit that finds the queue full first
  // takes out the queued tasks whose callers all gave up and runs them on its own thread, so
  // such a task must then only report the cancellation (as RunAsync's tasks and Classify
  // batches do), never do the work.
  absl::Status Submit(std::function<void()> task, Abandoned abandoned = nullptr);

  // Stops accepting tasks, runs those already queued, joins the workers. Idempotent.
  void Shutdown();

  // Tasks queued and not yet started.
  int64_t queued() const;

 private:
  struct Queued {
    std::function<void()> task;
    Abandoned abandoned;  // May be empty.
  };

  void WorkerLoop();

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// Whether `status` is Executor::Submit's refusal of a task because the queue was full (not
// another RESOURCE_EXHAUSTED, such as a task running out of memory).
bool IsQueueFull(const absl::Status& status);

// Runs fn(*cancellation) on `executor` without waiting: the worker then hands its result to
// done(absl::StatusOr<T>). The task is skipped (done gets CANCELLED) when `cancellation` was
// set before it started, and then no longer counts against the queue's capacity (done may then
// run on the thread of a later Submit); fn should poll it between chunks. `timer` (optional)
// accumulates the task's time in the queue and running. Returns Submit's status; done runs only
// when it is OK.
template <typename T, typename Fn, typename Done>
absl::Status RunAsync(Executor& executor, std::shared_ptr<Cancellation> cancellation, Fn fn,
                      Done done, std::shared_ptr<TaskTimer> timer = nullptr) {
  const auto queued_at = std::chrono::steady_clock::now();
  Executor::Abandoned abandoned = [c = cancellation] { return c->cancelled(); };
  return executor.Submit(
      [cancellation = std::move(cancellation), timer = std::move(timer), queued_at,
       fn = std::move(fn), done = std::move(done)]() mutable {
        if (cancellation->cancelled()) {
          done(absl::StatusOr<T>(absl::CancelledError("cancelled before it started")));
          return;
        }
        const auto started = std::chrono::steady_clock::now();
        if (timer != nullptr) timer->Started(started - queued_at);
        // An exception becomes INTERNAL for this call; it never reaches the worker thread.
        absl::StatusOr<T> result = absl::InternalError("server task: unknown exception");
        try {
          result = core::TorchCall(
              "server task", [&] { return fn(static_cast<const Cancellation&>(*cancellation)); });
        } catch (...) {  // Not a std::exception: TorchCall lets it through.
        }
        if (timer != nullptr) timer->Finished(std::chrono::steady_clock::now() - started);
        done(std::move(result));
      },
      std::move(abandoned));
}

// Runs fn(cancellation) on `executor` and waits for it, honouring `stop`: RunAsync with a
// waiting caller, which cancels the task when `stop` reports non-OK and returns that status.
template <typename T, typename Fn>
absl::StatusOr<T> RunOn(Executor& executor, const StopCheck& stop, Fn fn,
                        std::shared_ptr<TaskTimer> timer = nullptr) {
  auto slot = std::make_shared<ResultSlot<T>>();
  auto cancellation = std::make_shared<Cancellation>();
  absl::Status submitted = RunAsync<T>(
      executor, cancellation, std::move(fn),
      [slot](absl::StatusOr<T> result) { slot->Set(std::move(result)); }, std::move(timer));
  if (!submitted.ok()) return submitted;
  return slot->Wait(stop, cancellation.get());
}

}  // namespace hnet::server

#endif  // HNET_SERVER_EXECUTOR_H_
