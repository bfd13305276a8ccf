#include "server/security_flags.h"

#include <sys/stat.h>

#include "absl/status/statusor.h"
#include "core/log.h"
#include "server/auth.h"
#include "server/tls.h"

namespace hnet::server {
namespace {

// Reads `path` into *out when `path` is set.
absl::Status ReadPemFlag(const std::string& path, absl::string_view flag, std::string* out) {
  if (path.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> pem = ReadPemFile(path, flag);
  if (!pem.ok()) return pem.status();
  *out = *std::move(pem);
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadSecurityFlags(const SecurityFlags& flags, ServerOptions* options) {
  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    return absl::InvalidArgumentError(flags.tls_cert.empty() ? "--tls_key needs --tls_cert"
                                                             : "--tls_cert needs --tls_key");
  }
  if (!flags.tls_client_ca.empty() && flags.tls_cert.empty()) {
    return absl::InvalidArgumentError("--tls_client_ca needs --tls_cert and --tls_key");
  }
  ServerTlsOptions tls;
  if (absl::Status s = ReadPemFlag(flags.tls_cert, "--tls_cert", &tls.cert_chain_pem); !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadPemFlag(flags.tls_key, "--tls_key", &tls.private_key_pem); !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadPemFlag(flags.tls_client_ca, "--tls_client_ca", &tls.client_ca_pem);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateServerTls(tls); !s.ok()) return s;
  options->tls = std::move(tls);
  if (!flags.auth_token_file.empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile(flags.auth_token_file);
    if (!token.ok()) return token.status();
    struct stat st {};
    if (::stat(flags.auth_token_file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
      log::Warn("--auth_token_file {} is accessible to group or others (chmod 600 it)",
                flags.auth_token_file);
    }
    options->auth_token = *std::move(token);
  }
  return absl::OkStatus();
}

}  // namespace hnet::server
