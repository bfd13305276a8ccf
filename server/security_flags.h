// The security flags of hnet-server as file paths, and their loading into ServerOptions (main()
// parses the flags; this reads the files).
#ifndef HNET_SERVER_SECURITY_FLAGS_H_
#define HNET_SERVER_SECURITY_FLAGS_H_

#include <string>

#include "absl/status/status.h"
#include "server/options.h"

namespace hnet::server {

struct SecurityFlags {
  std::string tls_cert;         // --tls_cert: PEM certificate chain.
  std::string tls_key;          // --tls_key: PEM private key.
  std::string tls_client_ca;    // --tls_client_ca: PEM CA; requires client certificates.
  std::string auth_token_file;  // --auth_token_file: one bearer token.
};

// Reads the files named by `flags` into options->tls and options->auth_token and checks them
// (ValidateServerTls, ValidateToken); warns when the token file is accessible to group or
// others. Errors name the flag and the path and never contain the token.
absl::Status LoadSecurityFlags(const SecurityFlags& flags, ServerOptions* options);

}  // namespace hnet::server

#endif  // HNET_SERVER_SECURITY_FLAGS_H_
