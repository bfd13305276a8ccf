// The one place where absl::Status becomes grpc::Status (the RPC edge), plus helpers for the
// field-named errors that request validation returns.
#ifndef HNET_SERVER_STATUS_UTIL_H_
#define HNET_SERVER_STATUS_UTIL_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hnet::server {

// Maps the absl code onto the gRPC code of the same name and keeps the message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// INVALID_ARGUMENT "<field>: <problem>".
absl::Status FieldError(absl::string_view field, absl::string_view problem);

// RESOURCE_EXHAUSTED "<what> exceeds the limit of <limit> (<flag>)<hint>".
absl::Status LimitError(absl::string_view what, int64_t limit, absl::string_view flag,
                        absl::string_view hint = "");

}  // namespace hnet::server

#endif  // HNET_SERVER_STATUS_UTIL_H_
