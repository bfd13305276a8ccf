// Certificates for the security tests, generated at test time with the openssl CLI: a CA, a server
// certificate for 127.0.0.1 / localhost, a client certificate signed by the CA, and a second,
// untrusted CA with its own client certificate.
#ifndef HNET_TESTS_SERVER_TLS_TEST_UTIL_H_
#define HNET_TESTS_SERVER_TLS_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace hnet::server::testing {

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// PEM contents of the generated material; the files stay in `dir`.
struct TestCertificates {
  std::filesystem::path dir;
  std::string ca;           // Trusted CA certificate.
  std::string server_cert;  // SAN IP:127.0.0.1, DNS:localhost; signed by ca.
  std::string server_key;
  std::string client_cert;  // Signed by ca.
  std::string client_key;
  std::string rogue_ca;           // A CA nobody trusts.
  std::string rogue_client_cert;  // Signed by rogue_ca.
  std::string rogue_client_key;
};

// Runs `command` (a shell line) with its output appended to dir/openssl.log; true on exit 0.
inline bool RunOpenssl(const std::filesystem::path& dir, const std::string& command) {
  const std::string line = "cd '" + dir.string() + "' && " + command + " >>openssl.log 2>&1";
  return std::system(line.c_str()) == 0;
}

// Generates the certificates into `dir` (created). EC P-256 keys: fast to generate.
inline void GenerateCertificates(const std::filesystem::path& dir, TestCertificates* out) {
  std::filesystem::create_directories(dir);
  out->dir = dir;
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  auto make_ca = [&](const std::string& name) {
    return RunOpenssl(dir, "openssl req -x509 " + key + " -keyout " + name + ".key -out " + name +
                               ".pem -days 2 -subj /CN=" + name +
                               " -addext basicConstraints=critical,CA:TRUE"
                               " -addext keyUsage=critical,keyCertSign,cRLSign");
  };
  // `name` signed by `ca` with the extensions in `ext`.
  auto make_leaf = [&](const std::string& name, const std::string& ca, const std::string& ext) {
    WriteText(dir / (name + ".ext"), ext);
    return RunOpenssl(dir, "openssl req " + key + " -keyout " + name + ".key -out " + name +
                               ".csr -subj /CN=" + name) &&
           RunOpenssl(dir, "openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " +
                               ca + ".key -CAcreateserial -days 2 -out " + name + ".pem -extfile " +
                               name + ".ext");
  };
  const std::string client_ext =
      "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
      "extendedKeyUsage=clientAuth\n";
  ASSERT_TRUE(make_ca("ca")) << ReadText(dir / "openssl.log");
  ASSERT_TRUE(make_leaf("server", "ca",
                        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                        "extendedKeyUsage=serverAuth\n"
                        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"))
      << ReadText(dir / "openssl.log");
  ASSERT_TRUE(make_leaf("client", "ca", client_ext)) << ReadText(dir / "openssl.log");
  ASSERT_TRUE(make_ca("rogue-ca")) << ReadText(dir / "openssl.log");
  ASSERT_TRUE(make_leaf("rogue-client", "rogue-ca", client_ext)) << ReadText(dir / "openssl.log");
  out->ca = ReadText(dir / "ca.pem");
  out->server_cert = ReadText(dir / "server.pem");
  out->server_key = ReadText(dir / "server.key");
  out->client_cert = ReadText(dir / "client.pem");
  out->client_key = ReadText(dir / "client.key");
  out->rogue_ca = ReadText(dir / "rogue-ca.pem");
  out->rogue_client_cert = ReadText(dir / "rogue-client.pem");
  out->rogue_client_key = ReadText(dir / "rogue-client.key");
}

}  // namespace hnet::server::testing

#endif  // HNET_TESTS_SERVER_TLS_TEST_UTIL_H_
