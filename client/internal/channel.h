// Building the gRPC channel from ClientOptions (internal: uses gRPC types).
#ifndef HNET_CLIENT_INTERNAL_CHANNEL_H_
#define HNET_CLIENT_INTERNAL_CHANNEL_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/options.h"

namespace hnet::client::internal {

// The gRPC target for `addresses`: a single address verbatim; several "host:port" (or
// "[v6]:port") addresses as one "ipv4:a:p,b:q" or "ipv6:[a]:p,[b]:q" list, resolving host
// names once, now. INVALID_ARGUMENT naming addresses[i] for an entry that is not host:port (a
// gRPC URI such as "dns:///h:p" included), INVALID_ARGUMENT when the entries share no address
// family, UNAVAILABLE naming addresses[i] for a name that does not resolve.
absl::StatusOr<std::string> ChannelTarget(const std::vector<std::string>& addresses);

// A channel to ChannelTarget(options.addresses) with round_robin load balancing, the message
// size limits and the credentials of `options` (which must be valid).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ClientOptions& options);

}  // namespace hnet::client::internal

#endif  // HNET_CLIENT_INTERNAL_CHANNEL_H_
