// Client::Impl, shared by client.cc and client_stream.cc (internal: uses gRPC types).
#ifndef HNET_CLIENT_INTERNAL_CLIENT_IMPL_H_
#define HNET_CLIENT_INTERNAL_CLIENT_IMPL_H_

#include <grpcpp/channel.h>

#include <memory>

#include "absl/time/clock.h"
#include "client/client.h"
#include "client/internal/call_registry.h"
#include "client/internal/retry.h"
#include "client/internal/status_conversion.h"
#include "client/internal/thread_pool.h"
#include "hnet/v1/service.grpc.pb.h"

namespace hnet::client {

class Client::Impl {
 public:
  Impl(ClientOptions options, std::shared_ptr<grpc::Channel> channel)
      : options_(std::move(options)),
        channel_(std::move(channel)),
        stub_(hnet::v1::HyperNet::NewStub(channel_)),
        pool_(options_.async_threads) {}

  const ClientOptions& options() const { return options_; }
  hnet::v1::HyperNet::Stub& stub() const { return *stub_; }
  internal::ThreadPool& pool() const { return pool_; }
  // The calls in flight, cancelled by ~Client.
  internal::CallRegistry& calls() const { return calls_; }

  // SampleWeights and Classify until `deadline` (the *Async calls' budget starts when they
  // are made); the result is checked against the request.
  absl::StatusOr<SampleResult> Sample(absl::string_view model, const SampleOptions& options,
                                      absl::Time deadline) const;
  absl::StatusOr<ClassifyResult> Classify(absl::string_view model, const Tensor& inputs,
                                          const ClassifyOptions& options,
                                          absl::Time deadline) const;

  // Runs a unary `method` of the stub with retries until `deadline` (default: now plus the
  // call budget), registered in calls() while it runs.
  template <typename Request, typename Response>
  absl::Status Unary(grpc::Status (hnet::v1::HyperNet::Stub::*method)(
                         grpc::ClientContext*, const Request&, Response*),
                     const Request& request, Response* response,
                     absl::Time deadline = absl::InfinitePast()) const {
    if (deadline == absl::InfinitePast()) deadline = absl::Now() + options_.deadline;
    return internal::FromGrpcStatus(internal::CallWithRetry(
        options_, deadline,
        [&](grpc::ClientContext* context, bool*) {
          response->Clear();
          return (stub_.get()->*method)(context, request, response);
        },
        &calls_));
  }

 private:
  const ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<hnet::v1::HyperNet::Stub> stub_;
  mutable internal::CallRegistry calls_;  // outlives the workers, whose calls it holds
  mutable internal::ThreadPool pool_;     // last: joined before the stub goes away
};

}  // namespace hnet::client

#endif  // HNET_CLIENT_INTERNAL_CLIENT_IMPL_H_
