// Occupies an Executor's workers until released, so that what is submitted next stays queued.
#ifndef HNET_TESTS_SERVER_HELD_WORKERS_H_
#define HNET_TESTS_SERVER_HELD_WORKERS_H_

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "server/executor.h"

namespace hnet::server::testing {

class HeldWorkers {
 public:
  // Submits `workers` tasks that wait for Release() (or destruction) and waits until they all
  // left the queue. Check ok() before relying on it.
  HeldWorkers(Executor& executor, int workers) {
    for (int i = 0; i < workers; ++i) {
      ok_ = ok_ && executor
                       .Submit([released = released_] {
                         while (!released->load()) {
                           std::this_thread::sleep_for(std::chrono::milliseconds(1));
                         }
                       })
                       .ok();
    }
    while (ok_ && executor.queued() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~HeldWorkers() { Release(); }  // Also when an assertion ends the test early.
  HeldWorkers(const HeldWorkers&) = delete;
  HeldWorkers& operator=(const HeldWorkers&) = delete;

  bool ok() const { return ok_; }
  void Release() { *released_ = true; }

 private:
  bool ok_ = true;
  // Shared with the tasks, which may still look at it after this object is gone.
  const std::shared_ptr<std::atomic<bool>> released_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace hnet::server::testing

#endif  // HNET_TESTS_SERVER_HELD_WORKERS_H_
