#include "server/server.h"

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "server/auth.h"
#include "server/socket_drain.h"
#include "server/tls.h"

#ifndef HNET_VERSION
#define HNET_VERSION "unknown"
#endif

namespace hnet::server {
namespace {

constexpr char kServiceName[] = "hnet.v1.HyperNet";
constexpr int64_t kLingerMs = 250;

void SetServing(grpc::Server* server, bool serving) {
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);  // Overall ("") and every registered service.
  health->SetServingStatus(kServiceName, serving);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(std::shared_ptr<ModelRegistry> registry,
                                                      const ServerOptions& options) {
  if (absl::Status s = ValidateServerOptions(options); !s.ok()) return s;
  // gRPC 1.51's global shutdown (run when the last gRPC object goes) joins an executor thread
  // that can be parked in a 10 s poll: destroying the last server then stalled for 10 s, and
  // so did hnet-server's exit after a drain. One reference kept for the life of the process
  // means that shutdown never runs; the process's exit reclaims what it holds.
  static const bool kGrpcKeptInitialised = [] {
    grpc_init();
    return true;
  }();
  (void)kGrpcKeptInitialised;
  auto credentials = MakeServerCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  if (!options.auth_token.empty()) {
    if (absl::Status st = ValidateToken(options.auth_token, "--auth_token_file"); !st.ok()) {
      return st;
    }
  }
  std::unique_ptr<Server> s(new Server());
  s->options_ = options;
  s->metrics_ = std::make_unique<Metrics>(HNET_VERSION);
  // hnet_model_info shows the version a name serves by default: its highest loaded one, the
  // first of its name in models().
  const LoadedModel* previous = nullptr;
  for (const std::shared_ptr<const LoadedModel>& model : registry->models()) {
    if (previous == nullptr || previous->name != model->name) {
      s->metrics_->RecordModelLoad(model->name, absl::StrCat(model->version), model->load_seconds);
    }
    previous = model.get();
  }
  s->metrics_->SetModelsLoaded(static_cast<int64_t>(registry->models().size()));
  s->executor_ =
      std::make_unique<Executor>(Executor::Options{options.workers, options.queue_capacity});
  s->metrics_->SetQueueDepthSource([executor = s->executor_.get()] { return executor->queued(); });
  s->cache_ = std::make_unique<WeightCache>(options.batching.weight_cache_mb << 20);
  s->batcher_ = std::make_unique<ClassifyBatcher>(s->executor_.get(), s->cache_.get(),
                                                  options.batching, s->metrics_.get());
  s->eval_data_ = std::make_unique<EvaluationData>(options.data_dir);
  s->registry_ = std::move(registry);
  s->service_ =
      std::make_unique<HyperNetService>(s->registry_, options.limits, s->executor_.get(),
                                        s->batcher_.get(), s->eval_data_.get(), s->metrics_.get());
  s->watcher_ = std::make_unique<ModelWatcher>(
      s->registry_,
      WatcherOptions{options.lifecycle.models_dir, options.lifecycle.watch_interval_s},
      s->MakeModelEvents());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const std::string address = absl::StrCat(options.address, ":", options.port);
  builder.AddListeningPort(address, *credentials, &s->port_);
  // gRPC sets SO_REUSEPORT on Linux: a second server on the port would start and take a share
  // of the connections. A port in use must be an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(s->calls_.MakeFactory());
  if (!options.auth_token.empty()) {
    creators.push_back(std::make_unique<AuthInterceptorFactory>(
        std::make_shared<TokenAuthenticator>(options.auth_token), s->metrics_.get()));
  }
  builder.experimental().SetInterceptorCreators(std::move(creators));
  const int max_message = static_cast<int>(
      std::min<int64_t>(options.limits.max_message_bytes, std::numeric_limits<int>::max()));
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(max_message);
  builder.RegisterService(s->service_.get());
  if (options.lifecycle.admin_service) {
    s->admin_ = std::make_unique<ModelAdminService>(s->watcher_.get(), s->metrics_.get());
    builder.RegisterService(s->admin_.get());
  }
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    s->executor_->Shutdown();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  s->serving_.store(true);
  if (options.metrics_port != 0) {
    const int metrics_port =
        options.metrics_port == kEphemeralMetricsPort ? 0 : options.metrics_port;
    auto http = MetricsHttpServer::Start(options.metrics_address, metrics_port, s->metrics_.get(),
                                         [server = s.get()] { return server->serving_.load(); });
    if (!http.ok()) return http.status();  // ~Server shuts the gRPC side down.
    s->metrics_http_ = *std::move(http);
  }
  s->UpdateHealth();
  s->watcher_->Start();  // After server_ is set: the watcher thread updates health.
  log::Info("gRPC on {} ({}{}){}", s->endpoint(),
            options.tls.enabled() ? (options.tls.client_ca_pem.empty() ? "TLS" : "mutual TLS")
                                  : "plaintext",
            options.auth_token.empty() ? "" : ", bearer token required",
            s->metrics_http_ != nullptr
                ? absl::StrCat("; metrics on ", options.metrics_address, ":", s->metrics_port())
                : "");
  return s;
}

ModelEvents Server::MakeModelEvents() {
  ModelEvents events;
  events.on_loaded = [this](const LoadedModel& model, double seconds) {
    // hnet_model_info shows the version a name serves by default: its highest loaded one.
    const std::vector<ModelPtr> versions = registry_->Versions(model.name);
    if (!versions.empty() && versions.front()->version == model.version) {
      metrics_->RecordModelLoad(model.name, absl::StrCat(model.version), seconds);
    }
  };
  // Generated weights of a version that left are never served again (their keys name its
  // load); drop them now rather than when the LRU gets to them.
  events.on_unloaded = [this](const LoadedModel& model) {
    cache_->EraseByPrefix(ModelKey(model));
    const std::vector<ModelPtr> versions = registry_->Versions(model.name);
    if (versions.empty()) {
      metrics_->RecordModelUnload(model.name);
    } else if (model.version > versions.front()->version) {  // An older version takes over.
      metrics_->RecordModelLoad(model.name, absl::StrCat(versions.front()->version),
                                versions.front()->load_seconds);
    }
  };
  events.on_changed = [this](size_t loaded) {
    metrics_->SetModelsLoaded(static_cast<int64_t>(loaded));
    UpdateHealth();
  };
  return events;
}

void Server::UpdateHealth() {
  std::lock_guard<std::mutex> lock(health_mu_);  // Never SERVING again once draining began.
  SetServing(server_.get(), serving_.load() && registry_->size() > 0);
}

Server::~Server() { Shutdown(); }

std::string Server::endpoint() const { return absl::StrCat(options_.address, ":", port_); }

void Server::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (server_ == nullptr) return;
    using Clock = std::chrono::system_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(
                                             static_cast<int64_t>(options_.drain_timeout_s * 1000));
    {
      std::lock_guard<std::mutex> lock(health_mu_);
      serving_.store(false);
      SetServing(server_.get(), false);
    }
    watcher_->RequestStop();    // A rescan in progress stops before its next file.
    service_->StartDraining();  // New calls: UNAVAILABLE.
    // A unary call leaves the handler before its response is sent: wait for both.
    while ((service_->in_flight() > 0 || calls_.live() > 0) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Waits for at most the one file being read; answers queued ModelAdmin requests, whose
    // handlers then return.
    watcher_->Stop();
    // gRPC closes connections as soon as its calls are done, and a close that meets unread
    // bytes (a client's window updates) resets the connection, discarding what the kernel still
    // holds for the client. Wait until the peers have acknowledged every byte (a slow link or
    // reader), then give the last of them a moment to be read.
    while (UnacknowledgedBytes(port_) > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(
        std::chrono::milliseconds(kLingerMs),
        std::max<Clock::duration>(Clock::duration::zero(), deadline - Clock::now())));
    // No calls are left unless the drain timed out. A short deadline makes gRPC cancel those
    // and close idle connections instead of waiting (seconds) for clients to hang up.
    server_->Shutdown(Clock::now() + std::chrono::milliseconds(50));
    // Every handler has returned; queued tasks see their callers gone and finish quickly.
    executor_->Shutdown();
    if (metrics_http_ != nullptr) metrics_http_->Stop();
    log::Info("server on {} stopped", endpoint());
  });
}

void Server::Wait() {
  if (server_ != nullptr) server_->Wait();
}

}  // namespace hnet::server
