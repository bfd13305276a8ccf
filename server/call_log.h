// The access log: one line per RPC with method, model, size (networks or inputs), status
// code and latency. Also where a handler's absl::Status crosses into gRPC, and where every
// call (refused ones included) is counted in the metrics, once.
#ifndef HNET_SERVER_CALL_LOG_H_
#define HNET_SERVER_CALL_LOG_H_

#include <grpcpp/support/status.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/metrics.h"

namespace hnet::server {

class CallLog {
 public:
  // Starts the latency clock for one call of `method`; Finish() records into `metrics` when
  // not null (it must outlive the call).
  explicit CallLog(absl::string_view method, Metrics* metrics = nullptr);

  // The model the call names; a pinned `version` (> 0) shows in the log line as
  // "name@version", while the metrics label stays the name.
  void set_model(absl::string_view model, int64_t version = 0);
  void set_size(int64_t size) { size_ = size; }
  // Accumulates the time the call's executor tasks queue and run (pass to RunOn and
  // ClassifyJob).
  const std::shared_ptr<TaskTimer>& timer() const { return timer_; }

  // Writes the log line (warn level for server-side failures), records the call in the
  // metrics and returns ToGrpcStatus(status).
  grpc::Status Finish(const absl::Status& status);

 private:
  std::string method_;
  std::string model_ = "-";         // Metrics label (checked against loaded names).
  std::string logged_model_ = "-";  // Log field.
  int64_t size_ = 0;
  std::chrono::steady_clock::time_point start_;
  Metrics* metrics_;
  std::shared_ptr<TaskTimer> timer_ = std::make_shared<TaskTimer>();
};

}  // namespace hnet::server

#endif  // HNET_SERVER_CALL_LOG_H_
