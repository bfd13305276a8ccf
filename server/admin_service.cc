#include "server/admin_service.h"

#include <chrono>
#include <future>
#include <string>

#include "server/auth.h"
#include "server/call_log.h"
#include "server/status_util.h"

namespace hnet::server {
namespace {

// Waits for `result` until the call's deadline or cancellation, logs the call and answers.
grpc::Status Finish(CallLog& log, grpc::ServerContext* context,
                    std::future<ModelWatcher::Result> result, hnet::v1::ModelChanges* response) {
  while (result.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
    if (context->IsCancelled()) {
      return log.Finish(absl::CancelledError("call cancelled; the operation still completes"));
    }
    if (context->deadline() <= std::chrono::system_clock::now()) {
      return log.Finish(
          absl::DeadlineExceededError("deadline exceeded; the operation still completes"));
    }
  }
  ModelWatcher::Result changes = result.get();
  if (changes.ok()) {
    log.set_size(changes->changes_size());
    response->Swap(&*changes);
  }
  return log.Finish(changes.status());
}

}  // namespace

grpc::Status ModelAdminService::LoadModel(grpc::ServerContext* context,
                                          const hnet::v1::LoadModelRequest* request,
                                          hnet::v1::ModelChanges* response) {
  CallLog log("LoadModel", metrics_);
  log.set_model(request->name());
  if (absl::Status s = CallAuthStatus(*context); !s.ok()) return log.Finish(s);
  return Finish(log, context, watcher_->Load(request->path(), request->name(), request->version()),
                response);
}

grpc::Status ModelAdminService::UnloadModel(grpc::ServerContext* context,
                                            const hnet::v1::UnloadModelRequest* request,
                                            hnet::v1::ModelChanges* response) {
  CallLog log("UnloadModel", metrics_);
  log.set_model(request->name());
  if (absl::Status s = CallAuthStatus(*context); !s.ok()) return log.Finish(s);
  if (request->all_versions() && request->version() != 0) {
    return log.Finish(FieldError("version", "must be 0 (unset) with all_versions"));
  }
  if (!request->all_versions() && request->version() == 0) {
    return log.Finish(FieldError(
        "version", "required (>= 1); set all_versions to unload every version of the model"));
  }
  return Finish(log, context, watcher_->Unload(request->name(), request->version()), response);
}

grpc::Status ModelAdminService::ReloadModels(grpc::ServerContext* context,
                                             const hnet::v1::ReloadModelsRequest* request,
                                             hnet::v1::ModelChanges* response) {
  CallLog log("ReloadModels", metrics_);
  if (absl::Status s = CallAuthStatus(*context); !s.ok()) return log.Finish(s);
  return Finish(log, context, watcher_->Rescan(), response);
}

}  // namespace hnet::server
