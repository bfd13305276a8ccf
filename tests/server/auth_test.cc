// Bearer-token checks (server/auth.h) on their own: the authenticator's verdicts, and the
// interceptor in front of a service that does not check the verdict itself.
#include "server/auth.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "hnet/v1/service.grpc.pb.h"
#include "server/status_util.h"

namespace hnet::server {
namespace {

using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

constexpr char kToken[] = "tok-3f9a";

TEST(TokenAuthenticatorTest, Verdicts) {
  TokenAuthenticator auth(kToken);
  const std::string good = std::string("Bearer ") + kToken;
  const std::string lower = std::string("bearer ") + kToken;
  const std::string wrong = std::string("Bearer ") + kToken + "x";
  const std::string prefix = "Bearer tok-3f9";
  const std::string basic = std::string("Basic ") + kToken;
  auto check = [&](std::vector<std::string> values) {
    Metadata m;
    for (const std::string& v : values) m.emplace("authorization", v);
    m.emplace("other", "value");
    return auth.Check(m);
  };
  EXPECT_EQ(check({good}), AuthFailure::kNone);
  EXPECT_EQ(check({lower}), AuthFailure::kNone);  // The scheme is case-insensitive.
  EXPECT_EQ(check({}), AuthFailure::kMissingToken);
  EXPECT_EQ(check({wrong}), AuthFailure::kBadToken);
  EXPECT_EQ(check({prefix}), AuthFailure::kBadToken);
  EXPECT_EQ(check({"Bearer "}), AuthFailure::kMalformedHeader);
  EXPECT_EQ(check({basic}), AuthFailure::kMalformedHeader);
  EXPECT_EQ(check({kToken}), AuthFailure::kMalformedHeader);
  EXPECT_EQ(check({good, good}), AuthFailure::kMalformedHeader);
  EXPECT_EQ(AuthFailureReason(AuthFailure::kBadToken), "bad_token");
  EXPECT_EQ(AuthFailureReason(AuthFailure::kMissingToken), "missing_token");
  EXPECT_EQ(AuthFailureReason(AuthFailure::kMalformedHeader), "malformed_header");
}

TEST(TokenAuthenticatorTest, HealthAndReflectionStayOpen) {
  EXPECT_TRUE(TokenAuthenticator::IsProtected("/hnet.v1.HyperNet/Classify"));
  EXPECT_TRUE(TokenAuthenticator::IsProtected("/hnet.v1.Admin/Reload"));
  EXPECT_FALSE(TokenAuthenticator::IsProtected("/grpc.health.v1.Health/Check"));
  EXPECT_FALSE(TokenAuthenticator::IsProtected("/grpc.health.v1.Health/Watch"));
  EXPECT_FALSE(TokenAuthenticator::IsProtected(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
  EXPECT_TRUE(TokenAuthenticator::IsProtected("/grpc.healthy/Check"));
}

TEST(TokenAuthenticatorTest, TokenValidationNeverEchoesTheToken) {
  EXPECT_TRUE(ValidateToken("a-b.c_d~e+f/g=", "--auth_token_file t").ok());
  for (const std::string token : {std::string(""), std::string("new\nline"), std::string(" x"),
                                  std::string("x "), std::string("\xff\xfe")}) {
    absl::Status s = ValidateToken(token, "--auth_token_file t");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << token;
    EXPECT_NE(s.message().find("--auth_token_file t"), std::string::npos);
    if (!token.empty()) EXPECT_EQ(s.message().find(token), std::string::npos);
  }
}

// A service that answers ListModels OK without consulting the verdict, recording the metadata
// keys and verdict its handler sees.
class UncheckedService final : public hnet::v1::HyperNet::Service {
 public:
  grpc::Status ListModels(grpc::ServerContext* context, const hnet::v1::ListModelsRequest*,
                          hnet::v1::ListModelsResponse*) override {
    absl::MutexLock lock(&mu);
    keys.clear();
    for (const auto& [key, value] : context->client_metadata()) {
      keys.emplace_back(key.data(), key.size());
    }
    verdict = CallAuthStatus(*context);
    return grpc::Status::OK;
  }

  absl::Mutex mu;
  std::vector<std::string> keys ABSL_GUARDED_BY(mu);
  absl::Status verdict ABSL_GUARDED_BY(mu);
};

TEST(AuthInterceptorTest, StripsTheTokenAndBackstopsServicesThatDoNotCheck) {
  UncheckedService service;
  Metrics metrics("test");
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<AuthInterceptorFactory>(
      std::make_shared<TokenAuthenticator>(kToken), &metrics));
  builder.experimental().SetInterceptorCreators(std::move(creators));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = hnet::v1::HyperNet::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  auto call = [&](const std::string& authorization) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    hnet::v1::ListModelsResponse response;
    return stub->ListModels(&context, hnet::v1::ListModelsRequest(), &response);
  };

  grpc::Status ok = call(std::string("Bearer ") + kToken);
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  {
    absl::MutexLock lock(&service.mu);
    EXPECT_TRUE(service.verdict.ok());
    EXPECT_EQ(std::count(service.keys.begin(), service.keys.end(), "authorization"), 0);
    EXPECT_EQ(std::count(service.keys.begin(), service.keys.end(), kAuthVerdictKey), 1);
  }
  // The handler ran (it does not check), yet the client gets UNAUTHENTICATED.
  grpc::Status refused = call("Bearer nope");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(refused.error_message(), "invalid bearer token");
  {
    absl::MutexLock lock(&service.mu);
    EXPECT_EQ(service.verdict.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(std::count(service.keys.begin(), service.keys.end(), "authorization"), 0);
  }
  EXPECT_EQ(call("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(metrics.auth_failures().Value({"bad_token"}), 1);
  EXPECT_EQ(metrics.auth_failures().Value({"missing_token"}), 1);
  server->Shutdown(std::chrono::system_clock::now());
}

// A service whose ListModels answers with CallAuthStatus, as every real handler starts.
class CheckingService final : public hnet::v1::HyperNet::Service {
 public:
  grpc::Status ListModels(grpc::ServerContext* context, const hnet::v1::ListModelsRequest*,
                          hnet::v1::ListModelsResponse*) override {
    return ToGrpcStatus(CallAuthStatus(*context));
  }
};

// Starts `service` on an ephemeral port, with the auth interceptor when `token` is set.
std::unique_ptr<grpc::Server> StartServer(grpc::Service* service, const std::string& token,
                                          int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
  builder.RegisterService(service);
  if (!token.empty()) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(std::make_unique<AuthInterceptorFactory>(
        std::make_shared<TokenAuthenticator>(token), nullptr));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  return builder.BuildAndStart();
}

// ListModels on 127.0.0.1:port with the given metadata.
grpc::Status CallWith(int port, const std::vector<std::pair<std::string, std::string>>& metadata) {
  auto stub = hnet::v1::HyperNet::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  hnet::v1::ListModelsResponse response;
  return stub->ListModels(&context, hnet::v1::ListModelsRequest(), &response);
}

TEST(CallAuthStatusTest, WithoutAuthAClientSentVerdictIsIgnored) {
  CheckingService service;
  int port = 0;
  std::unique_ptr<grpc::Server> server = StartServer(&service, "", &port);
  ASSERT_NE(server, nullptr);
  for (const char* verdict : {"bad_token", "missing_token", "malformed_header", "other"}) {
    const grpc::Status status = CallWith(port, {{kAuthVerdictKey, verdict}});
    EXPECT_TRUE(status.ok()) << verdict << ": " << status.error_message();
  }
  EXPECT_TRUE(CallWith(port, {}).ok());
  server->Shutdown(std::chrono::system_clock::now());
}

TEST(CallAuthStatusTest, WithAuthAClientSentOkVerdictDoesNotAdmitABadToken) {
  CheckingService service;
  int port = 0;
  std::unique_ptr<grpc::Server> server = StartServer(&service, kToken, &port);
  ASSERT_NE(server, nullptr);
  const grpc::Status forged =
      CallWith(port, {{kAuthVerdictKey, "ok"}, {"authorization", "Bearer nope"}});
  EXPECT_EQ(forged.error_code(), grpc::StatusCode::UNAUTHENTICATED) << forged.error_message();
  EXPECT_EQ(forged.error_message(), "invalid bearer token");
  const grpc::Status good = CallWith(
      port, {{kAuthVerdictKey, "bad_token"}, {"authorization", std::string("Bearer ") + kToken}});
  EXPECT_TRUE(good.ok()) << good.error_message();
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace hnet::server
