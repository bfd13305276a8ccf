// A running hnet-server: the gRPC server (HyperNet and ModelAdmin services, grpc.health.v1,
// reflection) with its executor, Classify batcher, weight cache, evaluation data and the
// model watcher that keeps the registry in step with the --models directory; optionally
// TLS / mutual TLS, bearer-token authentication and an HTTP /metrics + /healthz endpoint.
#ifndef HNET_SERVER_SERVER_H_
#define HNET_SERVER_SERVER_H_

#include <grpcpp/server.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "server/admin_service.h"
#include "server/call_tracker.h"
#include "server/classify_batcher.h"
#include "server/eval_data.h"
#include "server/executor.h"
#include "server/metrics.h"
#include "server/metrics_http.h"
#include "server/model_registry.h"
#include "server/model_watcher.h"
#include "server/options.h"
#include "server/service.h"
#include "server/weight_cache.h"

namespace hnet::server {

class Server {
 public:
  // Builds the services over `registry` and starts listening on options.address:options.port
  // (port 0 picks a free one), with options.tls and options.auth_token, and /metrics on
  // options.metrics_port when set. Health reports SERVING once this returns, and from then
  // on while at least one model is loaded. Only the server's ModelWatcher writes `registry`
  // afterwards. Bad TLS material or token: INVALID_ARGUMENT naming the flag.
  static absl::StatusOr<std::unique_ptr<Server>> Start(std::shared_ptr<ModelRegistry> registry,
                                                       const ServerOptions& options);

  ~Server();  // Shutdown().

  // The port actually listened on.
  int port() const { return port_; }
  // "address:port" as listened on.
  std::string endpoint() const;
  const ClassifyBatcher& batcher() const { return *batcher_; }
  // The server's metrics; model lifecycle code records (re)loads here. Lives as long as the
  // server.
  Metrics& metrics() const { return *metrics_; }
  // The port /metrics is served on; 0 when disabled.
  int metrics_port() const { return metrics_http_ != nullptr ? metrics_http_->port() : 0; }
  const WeightCache& cache() const { return *cache_; }
  const ModelRegistry& registry() const { return *registry_; }
  // Rescans, loads and unloads (SIGHUP, tests). Thread-safe.
  ModelWatcher& watcher() { return *watcher_; }
  // Where the requests' heavy work runs (tests occupy its workers). Thread-safe.
  Executor& executor() { return *executor_; }

  // Health NOT_SERVING, refuses new calls (UNAVAILABLE), lets in-flight calls finish for up
  // to options.drain_timeout_s and, within it, until clients have acknowledged every byte sent
  // (plus a short linger so the last of them are read), cancels the rest, closes the port,
  // stops the workers, then the metrics
  // endpoint (/healthz answers 503 from the start of the drain). Idempotent.
  void Shutdown();

  // Blocks until Shutdown() has completed (from another thread).
  void Wait();

 private:
  Server() = default;

  // Health SERVING iff a model is loaded and the drain has not begun. Called on the watcher
  // thread (and by Start).
  void UpdateHealth();
  // What the watcher notifies: health, cache eviction (and metrics at merge time).
  ModelEvents MakeModelEvents();

  ServerOptions options_;
  int port_ = 0;
  std::unique_ptr<Metrics> metrics_;  // First: outlives everything that records into it.
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<WeightCache> cache_;
  std::unique_ptr<ClassifyBatcher> batcher_;
  std::unique_ptr<EvaluationData> eval_data_;
  std::shared_ptr<ModelRegistry> registry_;
  std::unique_ptr<HyperNetService> service_;
  CallTracker calls_{"/hnet.v1.HyperNet/"};  // Until each response is sent.
  std::unique_ptr<ModelWatcher> watcher_;
  std::unique_ptr<ModelAdminService> admin_;
  std::unique_ptr<grpc::Server> server_;
  std::mutex health_mu_;  // Orders health updates against the start of the drain.
  std::atomic<bool> serving_{false};
  std::unique_ptr<MetricsHttpServer> metrics_http_;  // Last: stopped before the rest goes.
  std::once_flag shutdown_once_;
};

}  // namespace hnet::server

#endif  // HNET_SERVER_SERVER_H_
