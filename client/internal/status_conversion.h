// The one place where grpc::Status becomes absl::Status (internal: uses gRPC types).
#ifndef HNET_CLIENT_INTERNAL_STATUS_CONVERSION_H_
#define HNET_CLIENT_INTERNAL_STATUS_CONVERSION_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace hnet::client::internal {

// Same canonical code (codes outside 0..16 become UNKNOWN) and the same message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// The inverse, for tests and fakes: same code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace hnet::client::internal

#endif  // HNET_CLIENT_INTERNAL_STATUS_CONVERSION_H_
