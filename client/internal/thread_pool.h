// A fixed-size pool of worker threads for the client's *Async calls (internal).
#ifndef HNET_CLIENT_INTERNAL_THREAD_POOL_H_
#define HNET_CLIENT_INTERNAL_THREAD_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace hnet::client::internal {

class ThreadPool {
 public:
  // Starts `threads` (>= 1) workers.
  explicit ThreadPool(int threads);
  // Join().
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task` to run on some worker. Thread-safe.
  void Schedule(std::function<void()> task);

  // Runs every task already scheduled, then joins the workers; later Schedule calls run the
  // task on the calling thread. Idempotent; not to be called from a task.
  void Join();

 private:
  void Work();
  // True when a worker has something to do: a task, or stopping.
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(join_mu_);
  absl::Mutex join_mu_;
};

}  // namespace hnet::client::internal

#endif  // HNET_CLIENT_INTERNAL_THREAD_POOL_H_
