// Bearer-token authentication of hnet-server calls.
//
// gRPC 1.51 (Debian 12) offers two hooks, neither sufficient alone: a server interceptor sees
// every call on any transport but cannot end one before its handler runs, and an
// AuthMetadataProcessor can refuse calls but only on TLS ports (InsecureServerCredentials
// asserts on it). So the check is split:
//  - AuthInterceptorFactory runs for every call. For protected methods (everything except
//    grpc.health.v1 and server reflection, so Kubernetes probes and grpcurl's listing work)
//    it checks `authorization: Bearer <token>` in constant time, counts failures in
//    hnet_auth_failures_total{reason}, removes the authorization entries from the metadata
//    handlers see, and records its verdict under kAuthVerdictKey (replacing any value the
//    client sent). As a backstop it turns the final status of a refused call that a handler
//    did not refuse into UNAUTHENTICATED.
//  - Each service handler starts with CallAuthStatus(context), which reads the verdict and
//    refuses the call with UNAUTHENTICATED before any work is done (HyperNetService does so
//    in Handle; any other service, e.g. an admin service, must do the same).
#ifndef HNET_SERVER_AUTH_H_
#define HNET_SERVER_AUTH_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/metrics.h"

namespace hnet::server {

// Metadata key of the interceptor's verdict: "ok" or an AuthFailureReason().
inline constexpr char kAuthVerdictKey[] = "x-hnet-auth-verdict";

enum class AuthFailure { kNone, kMissingToken, kMalformedHeader, kBadToken };

// Label value of hnet_auth_failures_total: "missing_token", "malformed_header", "bad_token" ("ok"
// for kNone).
absl::string_view AuthFailureReason(AuthFailure failure);

// The token of `path` (--auth_token_file): its contents with trailing CR/LF stripped.
// NOT_FOUND/PERMISSION_DENIED naming the flag and path when unreadable, INVALID_ARGUMENT when empty
// or when it holds characters not allowed in a header value (control characters, or
// leading/trailing spaces). The error never contains the token.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// OK when `token` can travel as a gRPC metadata value after "Bearer ": non-empty printable ASCII
// without leading or trailing spaces. `field` names the source in the error; the error never
// contains the token.
absl::Status ValidateToken(absl::string_view token, absl::string_view field);

// Compares presented tokens with one expected token in time independent of where they differ and of
// their lengths (SHA-256 of both, CRYPTO_memcmp of the digests). Thread-safe.
class TokenAuthenticator {
 public:
  // `token` must satisfy ValidateToken.
  explicit TokenAuthenticator(absl::string_view token);

  // Checks the "authorization" entries of a call's metadata: exactly one, "Bearer <token>" (scheme
  // case-insensitive).
  AuthFailure Check(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;

  // Whether calls of method path "/package.Service/Method" need a token: all but /grpc.health.v1.*
  // and /grpc.reflection.*.
  static bool IsProtected(absl::string_view method);

 private:
  std::array<uint8_t, 32> digest_;
};

// Installs the authentication interceptor (see the file comment). `metrics` may be null; both must
// outlive the server.
class AuthInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  AuthInterceptorFactory(std::shared_ptr<const TokenAuthenticator> authenticator, Metrics* metrics);
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const std::shared_ptr<const TokenAuthenticator> authenticator_;
  Metrics* const metrics_;
};

// OK unless the interceptor refused the call: then UNAUTHENTICATED saying what was wrong (never the
// token). Only the interceptor's own verdict counts, never a kAuthVerdictKey entry the client
// sent: without authentication configured there is no verdict and this is OK.
absl::Status CallAuthStatus(const grpc::ServerContextBase& context);

}  // namespace hnet::server

#endif  // HNET_SERVER_AUTH_H_
