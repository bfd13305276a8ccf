// The hnet.v1.HyperNet gRPC service. Handlers only translate: validate the request into core
// inputs (request_parsing.h), run the work on the executor or the Classify batcher while
// honouring the call's deadline and cancellation, and fill the response (responses.h).
// SampleWeights uses gRPC's raw callback API: its response is written straight into slices
// over the generated tensors (wire_encoder.h), and no gRPC thread waits for its work.
#ifndef HNET_SERVER_SERVICE_H_
#define HNET_SERVER_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "hnet/v1/service.grpc.pb.h"
#include "server/classify_batcher.h"
#include "server/eval_data.h"
#include "server/executor.h"
#include "server/metrics.h"
#include "server/model_registry.h"
#include "server/options.h"

namespace hnet::server {

class HyperNetService final
    : public hnet::v1::HyperNet::WithRawCallbackMethod_SampleWeights<hnet::v1::HyperNet::Service> {
 public:
  // The pointers must outlive the service; `metrics` may be null. `registry` is live (the
  // watcher changes it); each call resolves its model version once and uses it throughout.
  HyperNetService(std::shared_ptr<const ModelRegistry> registry, Limits limits, Executor* executor,
                  ClassifyBatcher* batcher, EvaluationData* eval_data, Metrics* metrics = nullptr);

  // From now on, new calls are refused with UNAVAILABLE (calls already running continue).
  void StartDraining() { draining_.store(true); }
  // Calls admitted and not yet ended (SampleWeights calls included while their work is queued).
  int64_t in_flight() const { return in_flight_.load(); }

  grpc::Status ListModels(grpc::ServerContext* context, const hnet::v1::ListModelsRequest* request,
                          hnet::v1::ListModelsResponse* response) override;
  grpc::Status GetModelInfo(grpc::ServerContext* context,
                            const hnet::v1::GetModelInfoRequest* request,
                            hnet::v1::ModelInfo* response) override;
  // `request` holds a serialized hnet.v1.SampleWeightsRequest (INVALID_ARGUMENT when it does
  // not parse); `response` receives the serialized SampleWeightsResponse. gRPC owns the reactor.
  grpc::ServerUnaryReactor* SampleWeights(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::Status StreamWeights(grpc::ServerContext* context,
                             const hnet::v1::SampleWeightsRequest* request,
                             grpc::ServerWriter<hnet::v1::GeneratedNetwork>* writer) override;
  grpc::Status Classify(grpc::ServerContext* context, const hnet::v1::ClassifyRequest* request,
                        hnet::v1::ClassifyResponse* response) override;
  grpc::Status InterpolatePath(grpc::ServerContext* context,
                               const hnet::v1::InterpolatePathRequest* request,
                               hnet::v1::InterpolatePathResponse* response) override;

 private:
  class Call;                  // Per-call state: access log, model lookup, stop check.
  class SampleWeightsReactor;  // One SampleWeights call (sample_weights_call.cc).

  // Counts a call in flight, then refuses it when unauthenticated (server/auth.h) or while
  // draining. Every BeginCall is matched by one EndCall, whatever it returned.
  absl::Status BeginCall(const grpc::ServerContextBase& context);
  void EndCall() { in_flight_.fetch_sub(1); }

  // Runs `body` as the call `method` on this thread: BeginCall, body (exceptions become
  // INTERNAL), EndCall, then logs and counts it and maps its status onto gRPC.
  template <typename Body>
  grpc::Status Handle(const char* method, grpc::ServerContext* context, Body body);

  absl::Status DoStreamWeights(Call& call, const hnet::v1::SampleWeightsRequest& request,
                               grpc::ServerWriter<hnet::v1::GeneratedNetwork>* writer);
  absl::Status DoClassify(Call& call, const hnet::v1::ClassifyRequest& request,
                          hnet::v1::ClassifyResponse* response);
  absl::Status DoInterpolatePath(Call& call, const hnet::v1::InterpolatePathRequest& request,
                                 hnet::v1::InterpolatePathResponse* response);

  const std::shared_ptr<const ModelRegistry> registry_;
  const Limits limits_;
  Executor* const executor_;
  ClassifyBatcher* const batcher_;
  EvaluationData* const eval_data_;
  Metrics* const metrics_;
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> streams_{0};  // StreamWeights calls being served.
};

}  // namespace hnet::server

#endif  // HNET_SERVER_SERVICE_H_
