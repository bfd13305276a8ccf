// ClientOptions.bearer_token: sent as "authorization: Bearer <token>" on every kind of call,
// validated without echoing it; and the CLI's security flags.
#include <gtest/gtest.h>

#include <filesystem>

#include "client/cli/security.h"
#include "client/client.h"
#include "io/file_io.h"
#include "tests/client/fake_server.h"
#include "tests/client/python_util.h"

namespace hnet::client {
namespace {

using testing::FakeServer;

constexpr char kToken[] = "s3cr3t-T0ken_with.chars~";

std::unique_ptr<Client> ConnectWithToken(const FakeServer& server, const std::string& token) {
  ClientOptions options;
  options.addresses = {server.address()};
  options.deadline = absl::Seconds(20);
  options.bearer_token = token;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

std::vector<std::string> Authorizations(FakeServer& server) {
  absl::MutexLock lock(&server.service().mu);
  return server.service().authorizations;
}

Tensor Images() {
  Tensor images;
  images.dtype = DType::kUint8;
  images.shape = {2, 2, 2};
  images.bytes = std::string(8, '\x01');
  return images;
}

TEST(BearerTokenTest, SyncAsyncAndStreamingCallsCarryTheToken) {
  FakeServer server("m");
  auto client = ConnectWithToken(server, kToken);
  SampleOptions sample;
  sample.n = 2;
  sample.noise = Noise::FromSeed(1);
  ClassifyOptions classify;
  classify.noise = Noise::FromSeed(2);
  ASSERT_TRUE(client->ListModels().ok());
  ASSERT_TRUE(client->SampleWeights("m", sample).ok());
  ASSERT_TRUE(client->StreamWeights("m", sample).ok());
  ASSERT_TRUE(client->SampleWeightsAsync("m", sample).get().ok());
  ASSERT_TRUE(client->ClassifyAsync("m", Images(), classify).get().ok());
  const std::vector<std::string> seen = Authorizations(server);
  ASSERT_EQ(seen.size(), 5u);
  for (const std::string& value : seen) EXPECT_EQ(value, std::string("Bearer ") + kToken);
}

TEST(BearerTokenTest, RetriedAttemptsCarryTheTokenToo) {
  FakeServer server("m");
  server.service().unavailable_first = 2;
  ClientOptions options;
  options.addresses = {server.address()};
  options.initial_backoff = absl::Milliseconds(1);
  options.max_backoff = absl::Milliseconds(2);
  options.bearer_token = kToken;
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->ListModels().ok());
  const std::vector<std::string> seen = Authorizations(server);
  ASSERT_EQ(seen.size(), 3u);
  for (const std::string& value : seen) EXPECT_EQ(value, std::string("Bearer ") + kToken);
}

TEST(BearerTokenTest, NoTokenNoAuthorizationMetadata) {
  FakeServer server("m");
  auto client = ConnectWithToken(server, "");
  ASSERT_TRUE(client->ListModels().ok());
  EXPECT_EQ(Authorizations(server), (std::vector<std::string>{""}));
}

TEST(BearerTokenTest, InvalidTokensAreRejectedWithoutEchoingThem) {
  for (const std::string& token : {std::string("line\nbreak"), std::string(" padded"),
                                   std::string("tab\there"), std::string("caf\xc3\xa9")}) {
    ClientOptions options;
    options.addresses = {"127.0.0.1:1"};
    options.bearer_token = token;
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    ASSERT_FALSE(client.ok()) << token;
    EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(client.status().message().find("ClientOptions.bearer_token"), std::string::npos);
    EXPECT_EQ(client.status().message().find(token), std::string::npos);
  }
}

TEST(CliSecurityTest, ReadsTokenAndTlsFilesNamingFlagAndPath) {
  const std::string dir = testing::UniqueTempPath("cli_security");
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(io::WriteFile(dir + "/token", std::string(kToken) + "\n").ok());
  ASSERT_TRUE(io::WriteFile(dir + "/ca.pem", "CA PEM").ok());
  ASSERT_TRUE(io::WriteFile(dir + "/cert.pem", "CERT PEM").ok());
  ASSERT_TRUE(io::WriteFile(dir + "/key.pem", "KEY PEM").ok());
  ASSERT_TRUE(io::WriteFile(dir + "/empty", "\r\n").ok());

  cli::SecurityArgs args;
  args.token_file = dir + "/token";
  ClientOptions options;
  ASSERT_TRUE(cli::ApplySecurityArgs(args, &options).ok());
  EXPECT_EQ(options.bearer_token, kToken);  // Trailing newline stripped.
  EXPECT_FALSE(options.tls.enabled);

  args.tls_ca = dir + "/ca.pem";
  args.tls_cert = dir + "/cert.pem";
  args.tls_key = dir + "/key.pem";
  ASSERT_TRUE(cli::ApplySecurityArgs(args, &options).ok());
  EXPECT_TRUE(options.tls.enabled);
  EXPECT_EQ(options.tls.root_certificates_pem, "CA PEM");
  EXPECT_EQ(options.tls.certificate_chain_pem, "CERT PEM");
  EXPECT_EQ(options.tls.private_key_pem, "KEY PEM");

  cli::SecurityArgs half = args;
  half.tls_key.clear();
  EXPECT_EQ(cli::ApplySecurityArgs(half, &options).code(), absl::StatusCode::kInvalidArgument);

  cli::SecurityArgs missing = args;
  missing.tls_ca = dir + "/nope.pem";
  absl::Status s = cli::ApplySecurityArgs(missing, &options);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("--tls_ca"), std::string::npos) << s;
  EXPECT_NE(s.message().find("nope.pem"), std::string::npos) << s;

  cli::SecurityArgs empty;
  empty.token_file = dir + "/empty";
  s = cli::ApplySecurityArgs(empty, &options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--token_file"), std::string::npos) << s;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hnet::client
