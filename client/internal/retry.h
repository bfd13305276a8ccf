// Retrying calls that fail with UNAVAILABLE, with exponential backoff (internal).
#ifndef HNET_CLIENT_INTERNAL_RETRY_H_
#define HNET_CLIENT_INTERNAL_RETRY_H_

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "client/internal/call_registry.h"
#include "client/options.h"

namespace hnet::client::internal {

// Wait before attempt `attempt + 1` (attempt >= 1): initial_backoff * multiplier^(attempt-1),
// capped at max_backoff, times a jitter factor in [0.8, 1.2].
absl::Duration Backoff(const ClientOptions& options, int attempt);

// Calls `attempt` with a fresh ClientContext whose deadline is `deadline` (and which carries
// "authorization: Bearer <options.bearer_token>" when the token is set) until it returns a
// status other than UNAVAILABLE, or clears *retryable (e.g. a stream that already delivered
// messages), or options.max_attempts attempts are spent, or the next backoff would end past
// the deadline. Returns the last attempt's status unchanged.
//
// With `calls`, each attempt's context is registered there while it runs, so that
// calls->Shutdown() cancels it; after the shutdown no attempt starts, no backoff is waited out,
// and the call ends with CANCELLED "client destroyed" (unless its attempt ended otherwise).
grpc::Status CallWithRetry(
    const ClientOptions& options, absl::Time deadline,
    absl::FunctionRef<grpc::Status(grpc::ClientContext* context, bool* retryable)> attempt,
    CallRegistry* calls = nullptr);

}  // namespace hnet::client::internal

#endif  // HNET_CLIENT_INTERNAL_RETRY_H_
