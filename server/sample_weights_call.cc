// HyperNetService::SampleWeights on gRPC's raw callback API. The gRPC thread that receives the
// call admits it, parses and validates the request exactly as the unary handlers do, and
// queues the work; the executor task that finishes it writes the response (wire_encoder.h)
// and ends the call. No gRPC thread waits for the work.
#include <atomic>
#include <memory>
#include <utility>

#include "core/hypernetwork.h"
#include "core/torch_status.h"
#include "server/generation.h"
#include "server/request_parsing.h"
#include "server/responses.h"
#include "server/service.h"
#include "server/service_call.h"
#include "server/status_util.h"
#include "server/wire_encoder.h"

namespace hnet::server {

// One SampleWeights call. It ends exactly once: by Start() when the call is refused, by the
// executor task when the work finishes, or by OnCancel() when gRPC cancels the call first
// (client gone, deadline passed, server shutting down). Whoever sets `ended` ends it and is
// the only one to touch the reactor afterwards (gRPC deletes it in OnDone once ended); a task
// that loses only drops its result.
class HyperNetService::SampleWeightsReactor final : public grpc::ServerUnaryReactor {
 public:
  // `context` and `response` are the call's (valid until OnDone).
  SampleWeightsReactor(HyperNetService* service, grpc::CallbackServerContext* context,
                       grpc::ByteBuffer* response)
      : service_(service),
        context_(context),
        response_(response),
        call_("SampleWeights", context, service->metrics_) {}

  // Admits the call and queues its work, or ends it with the refusal. On the gRPC thread.
  void Start(const grpc::ByteBuffer& request) {
    absl::Status status = service_->BeginCall(*context_);
    if (status.ok()) status = core::TorchCall("SampleWeights", [&] { return Queue(request); });
    if (!status.ok() && !ended_->exchange(true)) End(status);
  }

  // The task, if still queued or running, is cancelled and its result dropped.
  void OnCancel() override {
    if (ended_->exchange(true)) return;
    cancellation_->Cancel();
    const absl::Status stop = call_.Stop()();
    End(stop.ok() ? absl::CancelledError("call cancelled by the client") : stop);
  }

  // After the status was sent (or the call failed): only now is the call out of flight, so a
  // drain waits for responses still being delivered.
  void OnDone() override {
    service_->EndCall();
    delete this;
  }

 private:
  // Parses and validates `bytes` (the checks and messages of the unary handlers) and submits
  // the work. After an OK return the call may already have ended: nothing may follow it.
  absl::Status Queue(const grpc::ByteBuffer& bytes) {
    hnet::v1::SampleWeightsRequest request;
    grpc::ByteBuffer copy = bytes;  // Shares the slices; parsing consumes the buffer.
    if (!grpc::SerializationTraits<hnet::v1::SampleWeightsRequest>::Deserialize(&copy, &request)
             .ok()) {
      // A call cancelled or past its deadline before its message was read arrives empty:
      // that is the client's stop, not a malformed request.
      if (absl::Status stop = call_.Stop()(); !stop.ok()) return stop;
      return absl::InvalidArgumentError("request: not a valid hnet.v1.SampleWeightsRequest");
    }
    auto model = call_.Model(*service_->registry_, request.model(), request.version());
    if (!model.ok()) return model.status();
    if (request.permutation_gauge() && !request.gauge_fixed()) {
      return FieldError("permutation_gauge", "requires gauge_fixed");
    }
    const Limits& limits = service_->limits_;
    auto noise =
        ParseNoise(request.noise(), "noise", request.n(), "n",
                   {limits.max_networks, "--max_networks", "; use StreamWeights"}, **model);
    if (!noise.ok()) return noise.status();
    call_.log.set_size(noise->count);
    const bool return_z = request.return_z();
    const int64_t z_bytes = return_z ? noise->count * (*model)->network->z_dim() * 4 : 0;
    if (absl::Status s = CheckMessageBytes(WeightBytes(**model, noise->count) + z_bytes, limits,
                                           "; request fewer networks or use StreamWeights");
        !s.ok()) {
      return s;
    }
    const GaugeOptions gauge{request.gauge_fixed(), request.permutation_gauge()};
    return RunAsync<grpc::ByteBuffer>(
        *service_->executor_, cancellation_,
        [model = *model, noise = *noise, gauge,
         return_z](const Cancellation& cancellation) -> absl::StatusOr<grpc::ByteBuffer> {
          auto z = core::TorchCall("drawing noise", [&] { return noise.Resolve(*model); });
          if (!z.ok()) return z.status();
          auto weights = GenerateWeights(*model, *z, gauge, &cancellation);
          if (!weights.ok()) return weights.status();
          return core::TorchCall("encoding weights", [&] {
            return EncodeSampleResponse(*model, *weights, *z, return_z, VersionOf(*model));
          });
        },
        [this, ended = ended_, model = *model,
         count = noise->count](absl::StatusOr<grpc::ByteBuffer> result) {
          if (ended->exchange(true)) return;  // Ended by OnCancel: `this` may be gone.
          if (result.ok()) {
            call_.Generated(*model, count);
            response_->Swap(&*result);
          }
          End(result.status());
        },
        call_.log.timer());
  }

  // Logs and counts the call and finishes it with `status` (the response already written
  // when OK). Once per call.
  void End(const absl::Status& status) { Finish(call_.log.Finish(status)); }

  HyperNetService* const service_;
  grpc::CallbackServerContext* const context_;
  grpc::ByteBuffer* const response_;
  Call call_;
  // Shared with the task, which may outlive the reactor.
  const std::shared_ptr<std::atomic<bool>> ended_ = std::make_shared<std::atomic<bool>>(false);
  const std::shared_ptr<Cancellation> cancellation_ = std::make_shared<Cancellation>();
};

grpc::ServerUnaryReactor* HyperNetService::SampleWeights(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  auto* reactor = new SampleWeightsReactor(this, context, response);
  reactor->Start(*request);
  return reactor;
}

}  // namespace hnet::server
