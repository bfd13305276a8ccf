#include "client/internal/call_registry.h"

namespace hnet::client::internal {

absl::Status ClientDestroyedError() { return absl::CancelledError("client destroyed"); }

bool CallRegistry::Add(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return false;
  contexts_.insert(context);
  return true;
}

void CallRegistry::Remove(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  contexts_.erase(context);
}

void CallRegistry::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  // Under the lock: a context is never destroyed while it is being cancelled (Remove waits).
  // TryCancel of a call not yet started cancels it as it starts.
  for (grpc::ClientContext* context : contexts_) context->TryCancel();
}

bool CallRegistry::shut_down() const {
  absl::MutexLock lock(&mu_);
  return shut_down_;
}

bool CallRegistry::SleepFor(absl::Duration duration) const {
  absl::MutexLock lock(&mu_);
  return !mu_.AwaitWithTimeout(absl::Condition(&shut_down_), duration);
}

}  // namespace hnet::client::internal
