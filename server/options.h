// Tunables of hnet-server: limits, worker pool, batching and caching. Every field has a
// default suitable for one machine; main() maps flags onto these, nothing else parses flags.
#ifndef HNET_SERVER_OPTIONS_H_
#define HNET_SERVER_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace hnet::server {

// Request limits. Exceeding one is RESOURCE_EXHAUSTED naming the limit and its flag.
struct Limits {
  int64_t max_networks = 1000;           // --max_networks: per SampleWeights request.
  int64_t max_stream_networks = 100000;  // --max_stream_networks: per StreamWeights request.
  int64_t max_streams = 16;              // --max_streams: StreamWeights calls at once.
  int64_t max_ensemble_size = 1000;      // --max_ensemble_size: K per Classify request.
  int64_t max_inputs = 10000;            // --max_inputs: images per Classify/InterpolatePath.
  int64_t max_path_points = 1000;        // --max_path_points: points per InterpolatePath.
  int64_t max_message_bytes = 64 << 20;  // --max_message_mb: any request or response message.
};

// Dynamic batching of Classify requests that share model and noise (seed and K).
struct BatchingOptions {
  int64_t max_batch_inputs = 1024;  // --max_batch_inputs: flush a batch at this many images.
  int64_t batch_delay_ms = 2;       // --batch_delay_ms: longest wait for more requests.
  int64_t weight_cache_mb = 256;    // --weight_cache_mb: LRU of generated ensemble weights.
};

// Transport security of the gRPC port, as PEM contents (main() reads the files). Empty:
// plaintext. Certificate chain and key together: TLS. Plus a client CA: mutual TLS, client
// certificates required and verified against it.
struct ServerTlsOptions {
  std::string cert_chain_pem;   // --tls_cert
  std::string private_key_pem;  // --tls_key
  std::string client_ca_pem;    // --tls_client_ca
  bool enabled() const { return !cert_chain_pem.empty(); }
};

// Server::Start with metrics_port = kEphemeralMetricsPort serves /metrics on a free port
// (tests; see Server::metrics_port()).
inline constexpr int kEphemeralMetricsPort = -1;

// Model lifecycle (model_watcher.h): the watched --models directory and hnet.v1.ModelAdmin.
// How many versions per name stay loaded is RegistryOptions::keep_versions.
struct LifecycleOptions {
  std::string models_dir;       // --models; empty: nothing to watch (ModelAdmin loads only).
  double watch_interval_s = 2;  // --watch_interval_s: rescan period; 0 disables polling.
  // --admin_service: register hnet.v1.ModelAdmin. Off by default: LoadModel reads any file
  // the server can, so turn it on only behind a token, mutual TLS or a loopback address.
  bool admin_service = false;
};

struct ServerOptions {
  std::string address = "0.0.0.0";  // --address
  int port = 50051;                 // --port; 0 picks a free port (see Server::port()).
  int workers = 2;                  // --workers: executor threads running the heavy work.
  int64_t queue_capacity = 64;      // --queue_capacity: executor tasks waiting at most.
  double drain_timeout_s = 30;      // --drain_timeout_s: grace for in-flight calls.
  std::string data_dir;             // --data_dir: evaluation split; empty = $HNET_DATA_DIR.
  Limits limits;
  BatchingOptions batching;
  ServerTlsOptions tls;
  // --auth_token_file contents: when set, every call except grpc.health.v1 and reflection
  // must carry "authorization: Bearer <auth_token>" (server/auth.h).
  std::string auth_token;
  int metrics_port = 0;                     // --metrics_port: HTTP /metrics; 0 = disabled.
  std::string metrics_address = "0.0.0.0";  // --metrics_address
  LifecycleOptions lifecycle;
};

// OK when every field is in range (counts >= 1, times finite and at most a day, ports
// 0..65535); else INVALID_ARGUMENT naming the flag. Server::Start checks it; main() too,
// before any model is loaded.
absl::Status ValidateServerOptions(const ServerOptions& options);

}  // namespace hnet::server

#endif  // HNET_SERVER_OPTIONS_H_
