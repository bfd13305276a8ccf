// The access log: one line per RPC with method, model, size (networks or inputs), status
// code and latency. Also where a handler's absl::Status crosses into gRPC.
#ifndef HNET_SERVER_CALL_LOG_H_
#define HNET_SERVER_CALL_LOG_H_

#include <grpcpp/support/status.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hnet::server {

class CallLog {
 public:
  // Starts the latency clock for one call of `method`.
  explicit CallLog(absl::string_view method);

  void set_model(absl::string_view model) { model_ = std::string(model.substr(0, 100)); }
  void set_size(int64_t size) { size_ = size; }

  // Writes the log line (warn level for server-side failures) and returns ToGrpcStatus(status).
  grpc::Status Finish(const absl::Status& status);

 private:
  std::string method_;
  std::string model_ = "-";
  int64_t size_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace hnet::server

#endif  // HNET_SERVER_CALL_LOG_H_
