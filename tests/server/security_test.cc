// Security of a real hnet-server on loopback: mutual TLS, bearer-token authentication, and what
// /metrics and the logs say about it (the token must appear in neither).
#include <grpc/support/log.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/client.h"
#include "server/auth.h"
#include "server/security_flags.h"
#include "server/tls.h"
#include "tests/server/server_test_util.h"
#include "tests/server/tls_test_util.h"

namespace hnet::server {
namespace {

// gRPC's own log lines, captured while a test runs (gpr_set_log_function is process-wide).
std::mutex g_grpc_log_mu;
std::string* g_grpc_log = nullptr;

// Installed once and kept (there is no way to restore gRPC's default function): appends to
// g_grpc_log while a test captures, writes to stderr otherwise.
void CaptureGrpcLog(gpr_log_func_args* args) {
  std::lock_guard<std::mutex> lock(g_grpc_log_mu);
  if (g_grpc_log != nullptr) {
    absl::StrAppend(g_grpc_log, args->file, ":", args->line, ": ", args->message, "\n");
  } else {
    std::fprintf(stderr, "grpc %s:%d: %s\n", args->file, args->line, args->message);
  }
}

// "name{labels}" -> value for every sample line of an exposition.
std::map<std::string, double> ParseExposition(const std::string& text) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(space + 1), &value)) << line;
    samples[std::string(line.substr(0, space))] = value;
  }
  return samples;
}

// Images the tiny MNIST model accepts: [n, 28, 28] uint8, deterministic.
client::Tensor TestImages(int n) {
  client::Tensor images;
  images.dtype = client::DType::kUint8;
  images.shape = {n, 28, 28};
  images.bytes.resize(static_cast<size_t>(n) * 28 * 28);
  std::mt19937 rng(7);
  for (char& b : images.bytes) b = static_cast<char>(rng() % 256);
  return images;
}

class SecurityTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    testing::GenerateCertificates(dir_ / "certs", &certs_);
    std::mt19937_64 rng(20240611);
    token_ = absl::StrCat("hnet-secret-", rng(), "-", rng());
    // Capture our logs (at debug level) and gRPC's.
    log_sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_stream_);
    spdlog::default_logger()->sinks().push_back(log_sink_);
    previous_level_ = spdlog::get_level();
    spdlog::set_level(spdlog::level::debug);
    {
      std::lock_guard<std::mutex> lock(g_grpc_log_mu);
      g_grpc_log = &grpc_log_;
    }
    gpr_set_log_function(CaptureGrpcLog);
    gpr_set_log_verbosity(GPR_LOG_SEVERITY_DEBUG);
  }

  void TearDown() override {
    StopServer();
    gpr_set_log_verbosity(GPR_LOG_SEVERITY_ERROR);
    {
      std::lock_guard<std::mutex> lock(g_grpc_log_mu);
      g_grpc_log = nullptr;
    }
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), log_sink_), sinks.end());
    spdlog::set_level(previous_level_);
    ServerTest::TearDown();
  }

  // Mutual TLS, the token, /metrics on a free port.
  void StartSecureServer() {
    options_.tls.cert_chain_pem = certs_.server_cert;
    options_.tls.private_key_pem = certs_.server_key;
    options_.tls.client_ca_pem = certs_.ca;
    options_.auth_token = token_;
    options_.metrics_port = kEphemeralMetricsPort;
    StartServer();
  }

  // A client of the server trusting the test CA, presenting `cert`/`key` (if set) and sending
  // `token` (if set). One attempt per call: refusals are not retried.
  std::unique_ptr<client::Client> Connect(const std::string& cert, const std::string& key,
                                          const std::string& token) {
    client::ClientOptions options;
    options.addresses = {absl::StrCat("127.0.0.1:", server_->port())};
    options.deadline = absl::Seconds(60);
    options.max_attempts = 1;
    options.tls.enabled = true;
    options.tls.root_certificates_pem = certs_.ca;
    options.tls.certificate_chain_pem = cert;
    options.tls.private_key_pem = key;
    options.bearer_token = token;
    absl::StatusOr<std::unique_ptr<client::Client>> c = client::Client::Connect(options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  // A raw channel presenting the trusted client certificate.
  std::shared_ptr<grpc::Channel> MutualTlsChannel() {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = certs_.ca;
    ssl.pem_cert_chain = certs_.client_cert;
    ssl.pem_private_key = certs_.client_key;
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                               grpc::SslCredentials(ssl));
  }

  std::string Scrape(const std::string& path) {
    httplib::Client http("127.0.0.1", server_->metrics_port());
    httplib::Result result = http.Get(path);
    EXPECT_TRUE(result) << httplib::to_string(result.error());
    if (!result) return "";
    EXPECT_EQ(result->status, 200) << path;
    return result->body;
  }

  std::string CapturedLogs() {
    std::lock_guard<std::mutex> lock(g_grpc_log_mu);
    return log_stream_.str() + grpc_log_;
  }

  testing::TestCertificates certs_;
  std::string token_;
  std::ostringstream log_stream_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> log_sink_;
  spdlog::level::level_enum previous_level_ = spdlog::level::info;
  std::string grpc_log_;
};

TEST_F(SecurityTest, MutualTlsAndTokenGuardEveryCallAndShowInMetrics) {
  StartSecureServer();
  ASSERT_GT(server_->metrics_port(), 0);
  client::SampleOptions sample;
  sample.n = 3;
  sample.noise = client::Noise::FromSeed(11);
  client::ClassifyOptions classify;
  classify.ensemble_size = 4;
  classify.noise = client::Noise::FromSeed(5);
  const client::Tensor images = TestImages(6);

  // The right certificate and token: both calls succeed.
  auto good = Connect(certs_.client_cert, certs_.client_key, token_);
  absl::StatusOr<client::SampleResult> weights = good->SampleWeights("tiny", sample);
  ASSERT_TRUE(weights.ok()) << weights.status();
  ASSERT_EQ(weights->layers.size(), 4u);
  EXPECT_EQ(weights->layers[0].weights.shape[0], 3);
  absl::StatusOr<client::ClassifyResult> classified = good->Classify("tiny", images, classify);
  ASSERT_TRUE(classified.ok()) << classified.status();
  EXPECT_EQ(classified->predictions.size(), 6u);

  // No client certificate: the handshake is refused, no call reaches a handler.
  auto no_cert = Connect("", "", token_);
  EXPECT_EQ(no_cert->SampleWeights("tiny", sample).status().code(), absl::StatusCode::kUnavailable);
  // A certificate from a CA the server does not trust: refused the same way.
  auto rogue = Connect(certs_.rogue_client_cert, certs_.rogue_client_key, token_);
  EXPECT_EQ(rogue->SampleWeights("tiny", sample).status().code(), absl::StatusCode::kUnavailable);

  // The certificate but no token, or a wrong one: UNAUTHENTICATED, the token never echoed.
  auto no_token = Connect(certs_.client_cert, certs_.client_key, "");
  absl::Status missing = no_token->SampleWeights("tiny", sample).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kUnauthenticated) << missing;
  EXPECT_NE(missing.message().find("missing bearer token"), std::string::npos) << missing;
  EXPECT_EQ(no_token->Classify("tiny", images, classify).status().code(),
            absl::StatusCode::kUnauthenticated);
  const std::string wrong_token = token_ + "x";
  auto bad_token = Connect(certs_.client_cert, certs_.client_key, wrong_token);
  absl::Status bad = bad_token->SampleWeights("tiny", sample).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kUnauthenticated) << bad;
  EXPECT_EQ(bad.message().find(token_), std::string::npos);
  EXPECT_EQ(bad_token->Classify("tiny", images, classify).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(bad_token->StreamWeights("tiny", sample).status().code(),
            absl::StatusCode::kUnauthenticated);

  // Health stays open for probes: a certificate is needed (mutual TLS), a token is not.
  {
    grpc::GenericStub health(MutualTlsChannel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Slice no_bytes("", 0);  // HealthCheckRequest{service: ""} encodes to no bytes.
    grpc::ByteBuffer request(&no_bytes, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    health.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                     &response, [&](grpc::Status s) { done.set_value(std::move(s)); });
    grpc::Status status = done.get_future().get();
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::vector<grpc::Slice> slices;
    ASSERT_TRUE(response.Dump(&slices).ok());
    std::string bytes;
    for (const grpc::Slice& s : slices)
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING
  }

  // The metrics count the successes, the refusals and their reasons.
  const std::string text = Scrape("/metrics");
  const std::map<std::string, double> m = ParseExposition(text);
  auto value = [&](const std::string& series) {
    auto it = m.find(series);
    EXPECT_NE(it, m.end()) << series << " missing from\n" << text;
    return it == m.end() ? -1.0 : it->second;
  };
  EXPECT_EQ(value(R"(hnet_requests_total{method="SampleWeights",model="tiny",code="OK"})"), 1);
  EXPECT_EQ(value(R"(hnet_requests_total{method="Classify",model="tiny",code="OK"})"), 1);
  EXPECT_EQ(
      value(R"(hnet_requests_total{method="SampleWeights",model="-",code="UNAUTHENTICATED"})"), 2);
  EXPECT_EQ(value(R"(hnet_requests_total{method="Classify",model="-",code="UNAUTHENTICATED"})"), 2);
  EXPECT_EQ(
      value(R"(hnet_requests_total{method="StreamWeights",model="-",code="UNAUTHENTICATED"})"), 1);
  EXPECT_EQ(value(R"(hnet_auth_failures_total{reason="missing_token"})"), 2);
  EXPECT_EQ(value(R"(hnet_auth_failures_total{reason="bad_token"})"), 3);
  EXPECT_EQ(m.count(R"(hnet_auth_failures_total{reason="ok"})"), 0u);
  // Histograms: every call has a duration; only calls that ran work have queue and compute times;
  // +Inf bucket = _count, buckets never decrease.
  for (const auto& [method, calls, ran] : std::vector<std::tuple<std::string, double, double>>{
           {"SampleWeights", 3, 1}, {"Classify", 3, 1}, {"StreamWeights", 1, 0}}) {
    const std::string l = absl::StrCat("{method=\"", method, "\"");
    EXPECT_EQ(value("hnet_request_duration_seconds_count" + l + "}"), calls) << method;
    EXPECT_EQ(value("hnet_request_duration_seconds_bucket" + l + ",le=\"+Inf\"}"), calls);
    double previous = 0;
    for (const char* le : {"0.001", "0.01", "0.1", "1", "10", "60", "+Inf"}) {
      const double bucket =
          value(absl::StrCat("hnet_request_duration_seconds_bucket", l, ",le=\"", le, "\"}"));
      EXPECT_GE(bucket, previous) << method << " le=" << le;
      previous = bucket;
    }
    if (ran > 0) {
      EXPECT_EQ(value("hnet_request_queue_seconds_count" + l + "}"), ran) << method;
      EXPECT_EQ(value("hnet_request_compute_seconds_count" + l + "}"), ran) << method;
      EXPECT_GT(value("hnet_request_compute_seconds_sum" + l + "}"), 0) << method;
    } else {
      EXPECT_EQ(m.count("hnet_request_queue_seconds_count" + l + "}"), 0u) << method;
    }
  }
  EXPECT_EQ(value("hnet_classify_batch_requests_count"), 1);
  EXPECT_EQ(value("hnet_classify_batch_inputs_sum"), 6);
  EXPECT_EQ(value(R"(hnet_networks_generated_total{model="tiny"})"), 3 + 4);
  EXPECT_EQ(value("hnet_models_loaded"), 1);
  EXPECT_GT(value(R"(hnet_model_load_seconds{model="tiny"})"), 0);
  EXPECT_EQ(value("hnet_executor_queue_depth"), 0);
  EXPECT_EQ(Scrape("/healthz"), "ok\n");

  // The token appears nowhere: not in the metrics, not in our logs, not in gRPC's.
  const std::string logs = CapturedLogs();
  EXPECT_NE(logs.find("rpc=SampleWeights"), std::string::npos) << "log capture failed";
  EXPECT_NE(logs.find("code=UNAUTHENTICATED"), std::string::npos);
  EXPECT_EQ(text.find(token_), std::string::npos);
  EXPECT_EQ(logs.find(token_), std::string::npos) << logs;
  EXPECT_EQ(text.find("hnet-secret-"), std::string::npos);
  EXPECT_EQ(logs.find("hnet-secret-"), std::string::npos);
}

TEST_F(SecurityTest, ForgedVerdictAndMalformedHeadersAreRefused) {
  StartSecureServer();
  auto stub = hnet::v1::HyperNet::NewStub(MutualTlsChannel());
  auto call = [&](const std::vector<std::pair<std::string, std::string>>& metadata) {
    auto context = testing::Context();
    for (const auto& [key, value] : metadata) context->AddMetadata(key, value);
    hnet::v1::ListModelsResponse response;
    return stub->ListModels(context.get(), hnet::v1::ListModelsRequest(), &response);
  };
  // A client cannot claim the interceptor's verdict.
  EXPECT_EQ(call({{kAuthVerdictKey, "ok"}}).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call({{"authorization", "Basic " + token_}}).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      call({{"authorization", "Bearer " + token_}, {"authorization", "Bearer x"}}).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(call({{"authorization", "bearer " + token_}, {kAuthVerdictKey, "bad_token"}}).ok());
  EXPECT_EQ(server_->metrics().auth_failures().Value({"malformed_header"}), 2);
  EXPECT_EQ(server_->metrics().auth_failures().Value({"missing_token"}), 1);
}

TEST_F(SecurityTest, TokenAloneGuardsPlaintextServersAndStreams) {
  options_.auth_token = token_;
  StartServer();  // Plaintext: the interceptor does not depend on TLS.
  client::ClientOptions options;
  options.addresses = {server_->endpoint()};
  options.max_attempts = 1;
  client::SampleOptions sample;
  sample.n = 2;
  sample.noise = client::Noise::FromSeed(3);
  {
    auto anonymous = client::Client::Connect(options);
    ASSERT_TRUE(anonymous.ok());
    EXPECT_EQ((*anonymous)->StreamWeights("tiny", sample).status().code(),
              absl::StatusCode::kUnauthenticated);
    EXPECT_EQ((*anonymous)->ListModels().status().code(), absl::StatusCode::kUnauthenticated);
  }
  options.bearer_token = token_;
  auto authorised = client::Client::Connect(options);
  ASSERT_TRUE(authorised.ok());
  absl::StatusOr<std::vector<client::GeneratedNetwork>> streamed =
      (*authorised)->StreamWeights("tiny", sample);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  EXPECT_EQ(streamed->size(), 2u);
  EXPECT_TRUE((*authorised)->ListModels().ok());
  EXPECT_EQ(server_->metrics().networks_generated().Value({"tiny"}), 2);
  EXPECT_EQ(server_->metrics_port(), 0);  // Metrics not requested.
}

TEST_F(SecurityTest, TlsWithoutClientCaNeedsNoClientCertificate) {
  options_.tls.cert_chain_pem = certs_.server_cert;
  options_.tls.private_key_pem = certs_.server_key;
  StartServer();
  auto anonymous = Connect("", "", "");
  EXPECT_TRUE(anonymous->ListModels().ok());
  // A plaintext client cannot talk to a TLS port.
  client::ClientOptions plain;
  plain.addresses = {absl::StrCat("127.0.0.1:", server_->port())};
  plain.max_attempts = 1;
  plain.deadline = absl::Seconds(10);
  auto plaintext = client::Client::Connect(plain);
  ASSERT_TRUE(plaintext.ok());
  EXPECT_FALSE((*plaintext)->ListModels().ok());
}

TEST_F(SecurityTest, TlsOverSeveralAddressesChecksTheFirstHostsName) {
  options_.tls.cert_chain_pem = certs_.server_cert;
  options_.tls.private_key_pem = certs_.server_key;
  StartServer();
  client::ClientOptions options;
  const std::string address = absl::StrCat("localhost:", server_->port());
  options.addresses = {address, address};  // Round-robin over an "ipv4:a,b" target.
  options.max_attempts = 1;
  options.deadline = absl::Seconds(20);
  options.tls.enabled = true;
  options.tls.root_certificates_pem = certs_.ca;
  auto balanced = client::Client::Connect(options);
  ASSERT_TRUE(balanced.ok()) << balanced.status();
  EXPECT_TRUE((*balanced)->ListModels().ok());
  // A name the certificate does not hold is refused, named or not.
  options.tls.server_name = "not-the-server.example";
  auto wrong = client::Client::Connect(options);
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_EQ((*wrong)->ListModels().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(SecurityTest, BadTlsMaterialIsRefusedNamingTheFlag) {
  ServerTlsOptions tls;
  tls.cert_chain_pem = certs_.server_cert;
  EXPECT_NE(ValidateServerTls(tls).message().find("--tls_cert needs --tls_key"), std::string::npos);
  tls.private_key_pem = certs_.client_key;  // Not the server certificate's key.
  absl::Status mismatch = ValidateServerTls(tls);
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.message().find("does not belong"), std::string::npos) << mismatch;
  tls.private_key_pem = certs_.server_key;
  tls.client_ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  EXPECT_NE(ValidateServerTls(tls).message().find("--tls_client_ca"), std::string::npos);
  tls.client_ca_pem = certs_.ca;
  EXPECT_TRUE(ValidateServerTls(tls).ok());
  ServerTlsOptions ca_only;
  ca_only.client_ca_pem = certs_.ca;
  EXPECT_FALSE(ValidateServerTls(ca_only).ok());

  // Server::Start refuses too, before listening.
  options_.tls.cert_chain_pem = certs_.server_cert;
  options_.tls.private_key_pem = certs_.rogue_client_key;
  auto registry = ModelRegistry::LoadDirectory(dir_.string(), RegistryOptions());
  ASSERT_TRUE(registry.ok());
  auto server = Server::Start(std::move(*registry), options_);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SecurityTest, SecurityFlagsReadFilesAndNameFlagAndPath) {
  const std::filesystem::path certs = certs_.dir;
  SecurityFlags flags;
  flags.tls_cert = (certs / "server.pem").string();
  flags.tls_key = (certs / "server.key").string();
  flags.tls_client_ca = (certs / "ca.pem").string();
  const std::filesystem::path token_file = dir_ / "token";
  testing::WriteText(token_file, token_ + "\r\n");
  flags.auth_token_file = token_file.string();
  ServerOptions options;
  ASSERT_TRUE(LoadSecurityFlags(flags, &options).ok());
  EXPECT_EQ(options.tls.cert_chain_pem, certs_.server_cert);
  EXPECT_EQ(options.tls.client_ca_pem, certs_.ca);
  EXPECT_EQ(options.auth_token, token_);  // Trailing CR/LF stripped.

  SecurityFlags missing = flags;
  missing.tls_key = (certs / "nope.key").string();
  absl::Status s = LoadSecurityFlags(missing, &options);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("--tls_key " + missing.tls_key), std::string::npos) << s;

  SecurityFlags not_pem = flags;
  not_pem.tls_client_ca = token_file.string();
  s = LoadSecurityFlags(not_pem, &options);
  EXPECT_NE(s.message().find("--tls_client_ca"), std::string::npos) << s;
  EXPECT_EQ(s.message().find(token_), std::string::npos) << s;

  testing::WriteText(token_file, "\n");
  s = LoadSecurityFlags(flags, &options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--auth_token_file " + token_file.string()), std::string::npos) << s;
  EXPECT_NE(s.message().find("empty"), std::string::npos) << s;
  testing::WriteText(token_file, "two\nlines");
  s = LoadSecurityFlags(flags, &options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().find("two"), std::string::npos) << s;
}

TEST_F(SecurityTest, HealthzTurns503WhenDraining) {
  options_.metrics_port = kEphemeralMetricsPort;
  StartServer();
  EXPECT_EQ(Scrape("/healthz"), "ok\n");
  const int port = server_->metrics_port();
  // A stream the client has not read keeps the server draining until it is read.
  auto context = testing::Context();
  auto reader = stub_->StreamWeights(context.get(), testing::TinyRequest(300, 1));
  hnet::v1::GeneratedNetwork network;
  ASSERT_TRUE(reader->Read(&network));
  std::thread shutdown([&] { server_->Shutdown(); });
  int status = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (status != 503 && std::chrono::steady_clock::now() < give_up) {
    httplib::Client http("127.0.0.1", port);
    httplib::Result r = http.Get("/healthz");
    status = r ? r->status : -1;
    if (status != 503) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(status, 503) << "/healthz never answered 503 while draining";
  while (reader->Read(&network)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
  shutdown.join();
  httplib::Client after("127.0.0.1", port);
  EXPECT_FALSE(after.Get("/healthz"));
}

}  // namespace
}  // namespace hnet::server
