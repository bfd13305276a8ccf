#include "client/internal/retry.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

namespace hnet::client::internal {

absl::Duration Backoff(const ClientOptions& options, int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const double growth = std::pow(options.backoff_multiplier, std::max(0, attempt - 1));
  const absl::Duration base = std::min(options.max_backoff, options.initial_backoff * growth);
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return base * jitter(rng);
}

grpc::Status CallWithRetry(
    const ClientOptions& options, absl::Time deadline,
    absl::FunctionRef<grpc::Status(grpc::ClientContext* context, bool* retryable)> attempt,
    CallRegistry* calls) {
  const grpc::Status destroyed(grpc::StatusCode::CANCELLED,
                               std::string(ClientDestroyedError().message()));
  for (int n = 1;; ++n) {
    grpc::Status status;
    bool retryable = true;
    {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(deadline));
      if (!options.bearer_token.empty()) {
        context.AddMetadata("authorization", "Bearer " + options.bearer_token);
      }
      ScopedCall registered(calls, &context);
      if (!registered.added()) return destroyed;
      status = attempt(&context, &retryable);
    }
    if (calls != nullptr && status.error_code() == grpc::StatusCode::CANCELLED &&
        calls->shut_down()) {
      return destroyed;
    }
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE || !retryable ||
        n >= options.max_attempts) {
      return status;
    }
    const absl::Duration wait = Backoff(options, n);
    if (absl::Now() + wait >= deadline) return status;
    if (calls == nullptr) {
      std::this_thread::sleep_for(absl::ToChronoNanoseconds(wait));
    } else if (!calls->SleepFor(wait)) {
      return destroyed;
    }
  }
}

}  // namespace hnet::client::internal
