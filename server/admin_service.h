// The hnet.v1.ModelAdmin gRPC service: load, unload and rescan models of a running server.
// Handlers only wait: every operation runs on the ModelWatcher's thread (checkpoint files
// are never read on gRPC threads), and a handler waits for it until the call's deadline or
// cancellation (the operation itself still completes then).
#ifndef HNET_SERVER_ADMIN_SERVICE_H_
#define HNET_SERVER_ADMIN_SERVICE_H_

#include "hnet/v1/admin.grpc.pb.h"
#include "server/metrics.h"
#include "server/model_watcher.h"

namespace hnet::server {

class ModelAdminService final : public hnet::v1::ModelAdmin::Service {
 public:
  // `watcher` (and `metrics`, which may be null) must outlive the service. Calls refused by
  // bearer-token authentication (server/auth.h) do nothing.
  explicit ModelAdminService(ModelWatcher* watcher, Metrics* metrics = nullptr)
      : watcher_(watcher), metrics_(metrics) {}

  grpc::Status LoadModel(grpc::ServerContext* context, const hnet::v1::LoadModelRequest* request,
                         hnet::v1::ModelChanges* response) override;
  grpc::Status UnloadModel(grpc::ServerContext* context,
                           const hnet::v1::UnloadModelRequest* request,
                           hnet::v1::ModelChanges* response) override;
  grpc::Status ReloadModels(grpc::ServerContext* context,
                            const hnet::v1::ReloadModelsRequest* request,
                            hnet::v1::ModelChanges* response) override;

 private:
  ModelWatcher* const watcher_;
  Metrics* const metrics_;
};

}  // namespace hnet::server

#endif  // HNET_SERVER_ADMIN_SERVICE_H_
