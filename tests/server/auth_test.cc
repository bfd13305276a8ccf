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
#include <vector>

#include "absl/synchronization/mutex.h"
#include "hnet/v1/service.grpc.pb.h"

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

}  // namespace
}  // namespace hnet::server
