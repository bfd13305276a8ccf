#include "client/internal/channel.h"

#include <arpa/inet.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <netdb.h>
#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hnet::client::internal {
namespace {

// Numeric addresses of one "host:port": the first IPv4 and first IPv6 address, if any.
struct Resolved {
  std::string v4;  // "a.b.c.d:port"
  std::string v6;  // "[x::y]:port"
};

// The host of "host:port" or "[v6]:port", brackets removed (the whole string without a port).
std::string HostOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

// The port of `address` when it has the form host:port or [v6]:port, with a port in
// [1, 65535] and a host free of ':' (outside brackets), '/' and whitespace. Otherwise
// INVALID_ARGUMENT naming `field`: a configuration error (a gRPC URI, a stray space), not an
// outage to retry.
absl::StatusOr<uint32_t> ParseHostPort(const std::string& address, absl::string_view field) {
  const size_t colon = address.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": '", address, "' is not host:port (several addresses need that form)"));
  }
  const absl::string_view host = absl::string_view(address).substr(0, colon);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (host.find_first_of(" \t\n\r\f\v") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", address, "' holds whitespace; give host:port"));
  }
  if (host.find('/') != absl::string_view::npos ||
      (!bracketed && host.find(':') != absl::string_view::npos)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": '", address,
        "' is not host:port or [v6]:port; a gRPC URI (dns:///h:p, unix:/path, ipv4:a:p) "
        "works only as the only address"));
  }
  return port;
}

absl::StatusOr<Resolved> Resolve(const std::string& address, size_t index) {
  const std::string field = absl::StrCat("ClientOptions.addresses[", index, "]");
  absl::StatusOr<uint32_t> port = ParseHostPort(address, field);
  if (!port.ok()) return port.status();
  const std::string host = HostOf(address);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list); rc != 0) {
    return absl::UnavailableError(
        absl::StrCat(field, ": cannot resolve '", host, "': ", gai_strerror(rc)));
  }
  Resolved out;
  char text[INET6_ADDRSTRLEN];
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET && out.v4.empty()) {
      auto* in = reinterpret_cast<sockaddr_in*>(ai->ai_addr);
      if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text))) {
        out.v4 = absl::StrCat(text, ":", *port);
      }
    } else if (ai->ai_family == AF_INET6 && out.v6.empty()) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(ai->ai_addr);
      if (inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text))) {
        out.v6 = absl::StrCat("[", text, "]:", *port);
      }
    }
  }
  freeaddrinfo(list);
  if (out.v4.empty() && out.v6.empty()) {
    return absl::UnavailableError(absl::StrCat(field, ": no address for '", host, "'"));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> ChannelTarget(const std::vector<std::string>& addresses) {
  if (addresses.empty()) {
    return absl::InvalidArgumentError(
        "ClientOptions.addresses: at least one address is required");
  }
  if (addresses.size() == 1) return addresses[0];
  std::vector<std::string> v4, v6;
  for (size_t i = 0; i < addresses.size(); ++i) {
    absl::StatusOr<Resolved> r = Resolve(addresses[i], i);
    if (!r.ok()) return r.status();
    if (!r->v4.empty()) v4.push_back(r->v4);
    if (!r->v6.empty()) v6.push_back(r->v6);
  }
  // One resolver URI holds one address family: all IPv4 or all IPv6.
  if (v4.size() == addresses.size()) return absl::StrCat("ipv4:", absl::StrJoin(v4, ","));
  if (v6.size() == addresses.size()) return absl::StrCat("ipv6:", absl::StrJoin(v6, ","));
  return absl::InvalidArgumentError(
      "ClientOptions.addresses: the addresses share no address family (IPv4 or IPv6)");
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ClientOptions& options) {
  absl::StatusOr<std::string> target = ChannelTarget(options.addresses);
  if (!target.ok()) return target.status();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  args.SetLoadBalancingPolicyName("round_robin");
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls.enabled) {
    // Several addresses make an "ipv4:a,b" target, which is no host name to check the
    // certificates against: name one.
    if (!options.tls.server_name.empty()) {
      args.SetSslTargetNameOverride(options.tls.server_name);
    } else if (options.addresses.size() > 1) {
      args.SetSslTargetNameOverride(HostOf(options.addresses[0]));
    }
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls.root_certificates_pem;
    ssl.pem_cert_chain = options.tls.certificate_chain_pem;
    ssl.pem_private_key = options.tls.private_key_pem;
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  return grpc::CreateCustomChannel(*target, credentials, args);
}

}  // namespace hnet::client::internal
