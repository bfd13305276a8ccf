#include "server/executor.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace hnet::server {

namespace {

constexpr absl::string_view kQueueFullPayload = "type.hnet.dev/hnet.server.QueueFull";

// Runs `task`, logging and dropping what it throws.
void RunGuarded(std::function<void()>& task) {
  try {
    task();
  } catch (const std::exception& e) {
    log::Error("executor task failed: {}", e.what());
  } catch (...) {
    log::Error("executor task failed with an unknown exception");
  }
}

}  // namespace

bool IsQueueFull(const absl::Status& status) {
  return absl::IsResourceExhausted(status) && status.GetPayload(kQueueFullPayload).has_value();
}

Executor::Executor(Options options) : options_(options) {
  const int n = std::max(1, options_.workers);
  workers_.reserve(n);
  for (int i = 0; i < n; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

Executor::~Executor() { Shutdown(); }

absl::Status Executor::Submit(std::function<void()> task, Abandoned abandoned) {
  std::vector<std::function<void()>> taken_out;
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("server is shutting down");
    const int64_t capacity = std::max<int64_t>(1, options_.queue_capacity);
    if (static_cast<int64_t>(queue_.size()) >= capacity) {
      for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->abandoned && it->abandoned()) {
          taken_out.push_back(std::move(it->task));
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (static_cast<int64_t>(queue_.size()) >= capacity) {
      status = absl::ResourceExhaustedError(absl::StrCat(
          "server busy: the work queue is full (", capacity, " tasks, --queue_capacity); retry"));
      status.SetPayload(kQueueFullPayload, absl::Cord());
    } else {
      queue_.push_back({std::move(task), std::move(abandoned)});
    }
  }
  if (status.ok()) cv_.notify_one();
  // Outside the lock: each only reports its cancellation (and frees what it holds).
  for (std::function<void()>& t : taken_out) RunGuarded(t);
  return status;
}

void Executor::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
}

int64_t Executor::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(queue_.size());
}

void Executor::WorkerLoop() {
  // Threads not created by LibTorch start with the OpenMP default thread count; adopt the
  // process setting (at::set_num_threads in ConfigureRuntime), as LibTorch's own threads do.
  at::init_num_threads();
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopping and drained.
      task = std::move(queue_.front().task);
      queue_.pop_front();
    }
    RunGuarded(task);
  }
}

}  // namespace hnet::server
