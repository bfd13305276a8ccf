#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace hnet::server {
namespace {

constexpr char kAuthorizationKey[] = "authorization";
constexpr absl::string_view kBearerPrefix = "bearer ";

// The verdicts AuthFailureReason returns. The interceptor stores views of these arrays in the
// call's metadata, so CallAuthStatus recognises its entry by address: an entry a client sent
// lives in the call's buffers and can never point here.
constexpr char kVerdictOk[] = "ok";
constexpr char kVerdictMissingToken[] = "missing_token";
constexpr char kVerdictMalformedHeader[] = "malformed_header";
constexpr char kVerdictBadToken[] = "bad_token";

// Whether `value` is a verdict the interceptor recorded (one of the arrays above).
bool IsInterceptorVerdict(const grpc::string_ref& value) {
  for (const char* verdict :
       {kVerdictOk, kVerdictMissingToken, kVerdictMalformedHeader, kVerdictBadToken}) {
    if (value.data() == verdict && value.size() == std::strlen(verdict)) return true;
  }
  return false;
}

std::array<uint8_t, 32> Sha256(absl::string_view data) {
  std::array<uint8_t, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return digest;
}

absl::string_view ToView(const grpc::string_ref& s) { return {s.data(), s.size()}; }

// Strips the credentials, records `verdict`, and on refusal makes sure the call ends
// UNAUTHENTICATED.
class AuthInterceptor final : public grpc::experimental::Interceptor {
 public:
  AuthInterceptor(grpc::experimental::ServerRpcInfo* info, const TokenAuthenticator* auth,
                  Metrics* metrics)
      : info_(info), auth_(auth), metrics_(metrics) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      std::multimap<grpc::string_ref, grpc::string_ref>* metadata =
          methods->GetRecvInitialMetadata();
      failure_ = auth_->Check(*metadata);
      metadata->erase(kAuthorizationKey);
      metadata->erase(kAuthVerdictKey);
      const absl::string_view verdict = AuthFailureReason(failure_);
      // Static strings: the map holds references.
      metadata->emplace(grpc::string_ref(kAuthVerdictKey),
                        grpc::string_ref(verdict.data(), verdict.size()));
      if (failure_ != AuthFailure::kNone) {
        if (metrics_ != nullptr) metrics_->RecordAuthFailure(verdict);
        log::Debug("refusing {}: {}", info_->method(), std::string(verdict));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        failure_ != AuthFailure::kNone &&
        methods->GetSendStatus().error_code() != grpc::StatusCode::UNAUTHENTICATED) {
      methods->ModifySendStatus(
          grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(CallAuthMessage(failure_))));
    }
    methods->Proceed();
  }

  static absl::string_view CallAuthMessage(AuthFailure failure) {
    switch (failure) {
      case AuthFailure::kMissingToken:
        return "missing bearer token: send metadata 'authorization: Bearer <token>'";
      case AuthFailure::kMalformedHeader:
        return "malformed authorization metadata: expected one 'Bearer <token>'";
      case AuthFailure::kBadToken:
        return "invalid bearer token";
      case AuthFailure::kNone:
        break;
    }
    return "";
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  const TokenAuthenticator* const auth_;
  Metrics* const metrics_;
  AuthFailure failure_ = AuthFailure::kNone;
};

}  // namespace

absl::string_view AuthFailureReason(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::kNone:
      return kVerdictOk;
    case AuthFailure::kMissingToken:
      return kVerdictMissingToken;
    case AuthFailure::kMalformedHeader:
      return kVerdictMalformedHeader;
    case AuthFailure::kBadToken:
      return kVerdictBadToken;
  }
  return kVerdictBadToken;
}

absl::Status ValidateToken(absl::string_view token, absl::string_view field) {
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": the token is empty"));
  for (char c : token) {
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": the token holds a control or non-ASCII character (not allowed in metadata)"));
    }
  }
  if (token.front() == ' ' || token.back() == ' ') {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": the token starts or ends with a space"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  const std::string field = absl::StrCat("--auth_token_file ", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    const std::string reason = std::strerror(error);
    if (error == EACCES) return absl::PermissionDeniedError(absl::StrCat(field, ": ", reason));
    return absl::NotFoundError(absl::StrCat(field, ": cannot read: ", reason));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string token = contents.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (absl::Status s = ValidateToken(token, field); !s.ok()) return s;
  return token;
}

TokenAuthenticator::TokenAuthenticator(absl::string_view token) : digest_(Sha256(token)) {}

AuthFailure TokenAuthenticator::Check(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const {
  auto [first, last] = metadata.equal_range(kAuthorizationKey);
  if (first == last) return AuthFailure::kMissingToken;
  if (std::next(first) != last) return AuthFailure::kMalformedHeader;
  const absl::string_view value = ToView(first->second);
  if (value.size() <= kBearerPrefix.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kBearerPrefix.size()), kBearerPrefix)) {
    return AuthFailure::kMalformedHeader;
  }
  const std::array<uint8_t, 32> presented =
      Sha256(absl::StripLeadingAsciiWhitespace(value.substr(kBearerPrefix.size())));
  return CRYPTO_memcmp(presented.data(), digest_.data(), digest_.size()) == 0
             ? AuthFailure::kNone
             : AuthFailure::kBadToken;
}

bool TokenAuthenticator::IsProtected(absl::string_view method) {
  return !absl::StartsWith(method, "/grpc.health.v1.") &&
         !absl::StartsWith(method, "/grpc.reflection.");
}

AuthInterceptorFactory::AuthInterceptorFactory(
    std::shared_ptr<const TokenAuthenticator> authenticator, Metrics* metrics)
    : authenticator_(std::move(authenticator)), metrics_(metrics) {}

grpc::experimental::Interceptor* AuthInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  // No method name: a call no service implements; gRPC answers UNIMPLEMENTED without a handler.
  const char* method = info->method();
  if (method == nullptr || !TokenAuthenticator::IsProtected(method)) return nullptr;
  return new AuthInterceptor(info, authenticator_.get(), metrics_);
}

absl::Status CallAuthStatus(const grpc::ServerContextBase& context) {
  // Only the interceptor's own entry counts: without authentication configured there is no
  // interceptor to strip what a client sent under kAuthVerdictKey, and that must not refuse
  // (or admit) anything.
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range(kAuthVerdictKey);
  auto it = std::find_if(first, last,
                         [](const auto& entry) { return IsInterceptorVerdict(entry.second); });
  if (it == last) return absl::OkStatus();
  const absl::string_view verdict = ToView(it->second);
  for (AuthFailure f :
       {AuthFailure::kMissingToken, AuthFailure::kMalformedHeader, AuthFailure::kBadToken}) {
    if (verdict == AuthFailureReason(f)) {
      return absl::UnauthenticatedError(AuthInterceptor::CallAuthMessage(f));
    }
  }
  if (verdict == AuthFailureReason(AuthFailure::kNone)) return absl::OkStatus();
  return absl::UnauthenticatedError("unauthenticated");
}

}  // namespace hnet::server
