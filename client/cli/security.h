// Transport security and the bearer token of the `hnet` CLI: the flags as file paths, read into
// ClientOptions.
#ifndef HNET_CLIENT_CLI_SECURITY_H_
#define HNET_CLIENT_CLI_SECURITY_H_

#include <string>

#include "absl/status/status.h"
#include "client/options.h"

namespace hnet::cli {

struct SecurityArgs {
  std::string tls_ca;      // --tls_ca: PEM roots that verify the server (enables TLS).
  std::string tls_cert;    // --tls_cert: PEM client certificate chain (mutual TLS).
  std::string tls_key;     // --tls_key: PEM private key of tls_cert.
  std::string token_file;  // --token_file (or $HNET_TOKEN_FILE): one bearer token.
  std::string tls_server_name;  // --tls_server_name: name the certificates must hold.
};

// Fills options->tls (enabled when any tls_* path is set; system roots without tls_ca) and
// options->bearer_token (file contents, trailing CR/LF stripped). Errors name the flag and the path
// and never contain the token: INVALID_ARGUMENT for tls_cert without tls_key (or the reverse) or an
// empty token file, the ReadFile error otherwise.
absl::Status ApplySecurityArgs(const SecurityArgs& args, client::ClientOptions* options);

}  // namespace hnet::cli

#endif  // HNET_CLIENT_CLI_SECURITY_H_
