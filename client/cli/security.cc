#include "client/cli/security.h"

#include "absl/strings/str_cat.h"
#include "io/file_io.h"

namespace hnet::cli {
namespace {

// The contents of `path`, the error prefixed with `flag`.
absl::StatusOr<std::string> ReadFlagFile(const std::string& path, absl::string_view flag) {
  absl::StatusOr<std::string> bytes = io::ReadFile(path);
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(), absl::StrCat(flag, ": ", bytes.status().message()));
  }
  if (bytes->empty()) {  // An empty PEM would quietly mean "system roots" or "no client cert".
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": the file is empty"));
  }
  return bytes;
}

}  // namespace

absl::Status ApplySecurityArgs(const SecurityArgs& args, client::ClientOptions* options) {
  if (args.tls_cert.empty() != args.tls_key.empty()) {
    return absl::InvalidArgumentError(args.tls_cert.empty() ? "--tls_key needs --tls_cert"
                                                            : "--tls_cert needs --tls_key");
  }
  client::TlsOptions tls;
  tls.enabled = !args.tls_ca.empty() || !args.tls_cert.empty();
  if (!args.tls_server_name.empty() && !tls.enabled) {
    return absl::InvalidArgumentError("--tls_server_name needs --tls_ca or --tls_cert");
  }
  tls.server_name = args.tls_server_name;
  if (!args.tls_ca.empty()) {
    absl::StatusOr<std::string> pem = ReadFlagFile(args.tls_ca, "--tls_ca");
    if (!pem.ok()) return pem.status();
    tls.root_certificates_pem = *std::move(pem);
  }
  if (!args.tls_cert.empty()) {
    absl::StatusOr<std::string> cert = ReadFlagFile(args.tls_cert, "--tls_cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFlagFile(args.tls_key, "--tls_key");
    if (!key.ok()) return key.status();
    tls.certificate_chain_pem = *std::move(cert);
    tls.private_key_pem = *std::move(key);
  }
  options->tls = std::move(tls);
  if (!args.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadFlagFile(args.token_file, "--token_file");
    if (!token.ok()) return token.status();
    std::string value = *std::move(token);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--token_file ", args.token_file, ": the file holds no token"));
    }
    options->bearer_token = std::move(value);
  }
  return absl::OkStatus();
}

}  // namespace hnet::cli
