// The calls a Client has in flight, so that destroying the Client can cancel them (internal).
#ifndef HNET_CLIENT_INTERNAL_CALL_REGISTRY_H_
#define HNET_CLIENT_INTERNAL_CALL_REGISTRY_H_

#include <grpcpp/client_context.h>

#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hnet::client::internal {

// The status of a call that the destruction of its Client cut short (or never let start).
absl::Status ClientDestroyedError();

class CallRegistry {
 public:
  CallRegistry() = default;
  CallRegistry(const CallRegistry&) = delete;
  CallRegistry& operator=(const CallRegistry&) = delete;

  // Registers the context of a call about to start (or running). False after Shutdown(): the
  // call must not start. Thread-safe.
  bool Add(grpc::ClientContext* context);

  // Unregisters `context`; call it before the context is destroyed. Thread-safe.
  void Remove(grpc::ClientContext* context);

  // TryCancel()s every registered context, refuses later Add()s and wakes every SleepFor().
  // Idempotent, thread-safe.
  void Shutdown();

  // True once Shutdown() has been called.
  bool shut_down() const;

  // Sleeps for `duration`, or until Shutdown(); true when it slept the whole duration.
  bool SleepFor(absl::Duration duration) const;

 private:
  mutable absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::set<grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mu_);
};

// Registers a context for its scope: Add() on construction, Remove() on destruction.
class ScopedCall {
 public:
  // `registry` may be null (nothing is registered; added() is true).
  ScopedCall(CallRegistry* registry, grpc::ClientContext* context)
      : registry_(registry),
        context_(context),
        added_(registry == nullptr || registry->Add(context)) {}
  ~ScopedCall() {
    if (registry_ != nullptr && added_) registry_->Remove(context_);
  }
  ScopedCall(const ScopedCall&) = delete;
  ScopedCall& operator=(const ScopedCall&) = delete;

  // False when the registry was already shut down: do not start the call.
  bool added() const { return added_; }

 private:
  CallRegistry* const registry_;
  grpc::ClientContext* const context_;
  const bool added_;
};

}  // namespace hnet::client::internal

#endif  // HNET_CLIENT_INTERNAL_CALL_REGISTRY_H_
