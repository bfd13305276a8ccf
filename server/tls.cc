#include "server/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hnet::server {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate of `pem` and how many it holds, or INVALID_ARGUMENT naming `flag`.
absl::StatusOr<X509Ptr> FirstCertificate(const std::string& pem, absl::string_view flag,
                                         int* count) {
  BioPtr bio = MemoryBio(pem);
  X509Ptr first;
  *count = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (first == nullptr) {
      first.reset(cert);
    } else {
      X509_free(cert);
    }
    ++*count;
  }
  ERR_clear_error();  // The read that ends the loop leaves "no start line"
                      // behind.
  if (first == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": no PEM certificate (-----BEGIN CERTIFICATE-----) found"));
  }
  return first;
}

}  // namespace

absl::StatusOr<std::string> ReadPemFile(const std::string& path, absl::string_view flag) {
  const std::string where = absl::StrCat(flag, " ", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    if (error == EACCES) {
      return absl::PermissionDeniedError(absl::StrCat(where, ": ", std::strerror(error)));
    }
    return absl::NotFoundError(absl::StrCat(where, ": cannot read: ", std::strerror(error)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string pem = contents.str();
  if (pem.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": the file is empty"));
  if (!absl::StrContains(pem, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not a PEM file (no -----BEGIN line)"));
  }
  return pem;
}

absl::Status ValidateServerTls(const ServerTlsOptions& tls) {
  const bool has_cert = !tls.cert_chain_pem.empty();
  const bool has_key = !tls.private_key_pem.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(has_cert ? "--tls_cert needs --tls_key"
                                               : "--tls_key needs --tls_cert");
  }
  if (!has_cert) {
    if (!tls.client_ca_pem.empty()) {
      return absl::InvalidArgumentError("--tls_client_ca needs --tls_cert and --tls_key");
    }
    return absl::OkStatus();
  }
  int count = 0;
  absl::StatusOr<X509Ptr> cert = FirstCertificate(tls.cert_chain_pem, "--tls_cert", &count);
  if (!cert.ok()) return cert.status();
  BioPtr key_bio = MemoryBio(tls.private_key_pem);
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        "--tls_key: no unencrypted PEM private key found (encrypted keys are not supported)");
  }
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "--tls_key: the private key does not belong to the first certificate of --tls_cert");
  }
  if (!tls.client_ca_pem.empty()) {
    absl::StatusOr<X509Ptr> ca = FirstCertificate(tls.client_ca_pem, "--tls_client_ca", &count);
    if (!ca.ok()) return ca.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& tls) {
  if (absl::Status s = ValidateServerTls(tls); !s.ok()) return s;
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      tls.client_ca_pem.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls.client_ca_pem;
  ssl.pem_key_cert_pairs.push_back({tls.private_key_pem, tls.cert_chain_pem});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace hnet::server
