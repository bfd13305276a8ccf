#include "server/call_log.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "server/status_util.h"

namespace hnet::server {

CallLog::CallLog(absl::string_view method, Metrics* metrics)
    : method_(method), start_(std::chrono::steady_clock::now()), metrics_(metrics) {}

void CallLog::set_model(absl::string_view model, int64_t version) {
  model_ = std::string(model.substr(0, 256));  // Longer than any valid model name.
  logged_model_ = version > 0 ? absl::StrCat(model_, "@", version) : model_;
}

grpc::Status CallLog::Finish(const absl::Status& status) {
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  const std::string code = absl::StatusCodeToString(status.code());
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      log::Warn("rpc={} model={} size={} code={} latency_ms={:.1f} error=\"{}\"", method_,
                logged_model_, size_, code, ms, std::string(status.message()));
      break;
    default:
      log::Info("rpc={} model={} size={} code={} latency_ms={:.1f}", method_, logged_model_, size_,
                code, ms);
  }
  if (metrics_ != nullptr) {
    metrics_->RecordRequest(method_, model_, status.code(), ms / 1000, timer_->Timing());
  }
  return ToGrpcStatus(status);
}

}  // namespace hnet::server
