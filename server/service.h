// The hnet.v1.HyperNet gRPC service. Handlers only translate: validate the request into core
// inputs (request_parsing.h), run the work on the executor or the Classify batcher while
// honouring the call's deadline and cancellation, and fill the response (responses.h).
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

class HyperNetService final : public hnet::v1::HyperNet::Service {
 public:
  // The pointers must outlive the service; `metrics` may be null. `registry` is live (the
  // watcher changes it); each call resolves its model version once and uses it throughout.
  HyperNetService(std::shared_ptr<const ModelRegistry> registry, Limits limits, Executor* executor,
                  ClassifyBatcher* batcher, EvaluationData* eval_data, Metrics* metrics = nullptr);

  // From now on, new calls are refused with UNAVAILABLE (calls already running continue).
  void StartDraining() { draining_.store(true); }
  // Calls currently inside a handler.
  int64_t in_flight() const { return in_flight_.load(); }

  grpc::Status ListModels(grpc::ServerContext* context, const hnet::v1::ListModelsRequest* request,
                          hnet::v1::ListModelsResponse* response) override;
  grpc::Status GetModelInfo(grpc::ServerContext* context,
                            const hnet::v1::GetModelInfoRequest* request,
                            hnet::v1::ModelInfo* response) override;
  grpc::Status SampleWeights(grpc::ServerContext* context,
                             const hnet::v1::SampleWeightsRequest* request,
                             hnet::v1::SampleWeightsResponse* response) override;
  grpc::Status StreamWeights(grpc::ServerContext* context,
                             const hnet::v1::SampleWeightsRequest* request,
                             grpc::ServerWriter<hnet::v1::GeneratedNetwork>* writer) override;
  grpc::Status Classify(grpc::ServerContext* context, const hnet::v1::ClassifyRequest* request,
                        hnet::v1::ClassifyResponse* response) override;
  grpc::Status InterpolatePath(grpc::ServerContext* context,
                               const hnet::v1::InterpolatePathRequest* request,
                               hnet::v1::InterpolatePathResponse* response) override;

 private:
  class Call;  // Per-call state: access log, model lookup, stop check.

  // Runs `body` as the call `method`: refuses it when unauthenticated (server/auth.h) or
  // while draining, counts it in flight, logs and counts it, and maps its status onto gRPC.
  template <typename Body>
  grpc::Status Handle(const char* method, grpc::ServerContext* context, Body body);

  absl::Status DoSampleWeights(Call& call, const hnet::v1::SampleWeightsRequest& request,
                               hnet::v1::SampleWeightsResponse* response);
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
};

}  // namespace hnet::server

#endif  // HNET_SERVER_SERVICE_H_
