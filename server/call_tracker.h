// Counts the calls to one service that gRPC holds, from arrival until their status has been
// sent, so that a drain can wait for responses still on their way to a slow reader.
#ifndef HNET_SERVER_CALL_TRACKER_H_
#define HNET_SERVER_CALL_TRACKER_H_

#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace hnet::server {

class CallTracker {
 public:
  // Tracks calls whose method starts with `method_prefix`, e.g. "/hnet.v1.HyperNet/".
  explicit CallTracker(std::string method_prefix);

  // Calls alive now: created by gRPC and not yet destroyed (their status sent, or the call
  // failed). Thread-safe.
  int64_t live() const { return live_->load(); }

  // An interceptor factory for ServerBuilder::experimental().SetInterceptorCreators; it may
  // outlive this tracker.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeFactory() const;

 private:
  const std::string method_prefix_;
  const std::shared_ptr<std::atomic<int64_t>> live_ = std::make_shared<std::atomic<int64_t>>(0);
};

}  // namespace hnet::server

#endif  // HNET_SERVER_CALL_TRACKER_H_
