#include "server/call_tracker.h"

#include <utility>

#include "absl/strings/match.h"

namespace hnet::server {
namespace {

// Lives as long as its call: gRPC destroys a call's interceptors with the call.
class LiveCall final : public grpc::experimental::Interceptor {
 public:
  explicit LiveCall(std::shared_ptr<std::atomic<int64_t>> live) : live_(std::move(live)) {
    live_->fetch_add(1);
  }
  ~LiveCall() override { live_->fetch_sub(1); }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  const std::shared_ptr<std::atomic<int64_t>> live_;
};

class LiveCallFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  LiveCallFactory(std::string method_prefix, std::shared_ptr<std::atomic<int64_t>> live)
      : method_prefix_(std::move(method_prefix)), live_(std::move(live)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const char* method = info->method();
    if (method == nullptr || !absl::StartsWith(method, method_prefix_)) return nullptr;
    return new LiveCall(live_);
  }

 private:
  const std::string method_prefix_;
  const std::shared_ptr<std::atomic<int64_t>> live_;
};

}  // namespace

CallTracker::CallTracker(std::string method_prefix) : method_prefix_(std::move(method_prefix)) {}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallTracker::MakeFactory()
    const {
  return std::make_unique<LiveCallFactory>(method_prefix_, live_);
}

}  // namespace hnet::server
