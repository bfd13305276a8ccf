// Transport security of the gRPC port: plaintext, TLS, or mutual TLS (client certificates required
// and verified against --tls_client_ca).
#ifndef HNET_SERVER_TLS_H_
#define HNET_SERVER_TLS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/options.h"

namespace hnet::server {

// The contents of PEM file `path` given as `flag`. NOT_FOUND/PERMISSION_DENIED naming flag and path
// when unreadable, INVALID_ARGUMENT when empty or without a PEM block.
absl::StatusOr<std::string> ReadPemFile(const std::string& path, absl::string_view flag);

// OK when `tls` is empty (plaintext) or consistent: certificate chain and key both set, both parse,
// the key belongs to the first certificate, and the client CA (if set) parses and comes with a
// certificate. Errors name the flags (--tls_cert, --tls_key, --tls_client_ca).
absl::Status ValidateServerTls(const ServerTlsOptions& tls);

// Insecure credentials when `tls` is empty; SSL credentials otherwise, requiring and verifying
// client certificates when tls.client_ca_pem is set. Validates first.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& tls);

}  // namespace hnet::server

#endif  // HNET_SERVER_TLS_H_
