// hnet-server: serves the hypernetworks of a directory of checkpoints over gRPC (hnet.v1).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <iostream>
#include <memory>
#include <thread>

#include "core/log.h"
#include "core/runtime.h"
#include "flags/flags.h"
#include "server/model_registry.h"
#include "server/options.h"
#include "server/security_flags.h"
#include "server/server.h"

namespace {

// SIGINT/SIGTERM/SIGHUP write their number here (async-signal-safe); main() waits on the
// other end, so a signal that arrives during start-up is acted on as soon as the server is up.
int g_signal_pipe[2] = {-1, -1};
// Set by SIGINT/SIGTERM: start-up stops loading checkpoints between files.
volatile sig_atomic_t g_stop_requested = 0;

void OnSignal(int signal_number) {
  const int saved_errno = errno;
  if (signal_number != SIGHUP) g_stop_requested = 1;
  const char byte = static_cast<char>(signal_number);
  // The write end is non-blocking: with the pipe full, signals already queued suffice.
  [[maybe_unused]] ssize_t ignored = ::write(g_signal_pipe[1], &byte, 1);
  errno = saved_errno;
}

int Fail(const absl::Status& status) {
  hnet::log::Error("{}", status.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0 ||
      ::fcntl(g_signal_pipe[1], F_SETFL, O_NONBLOCK) != 0) {
    return 1;
  }
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGHUP, &action, nullptr);  // Rescan --models now.

  CLI::App app{"hnet-server: serve generated networks of hypernetwork checkpoints over gRPC"};
  hnet::server::ServerOptions options;
  std::string models_dir;
  std::string device_flag = "auto";
  std::string log_level = "info";
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int threads = 0;
  int64_t max_message_mb = options.limits.max_message_bytes >> 20;
  int keep_versions = 1;
  app.add_option("--models", models_dir,
                 "Directory of checkpoints: <name>.hnet or <name>/<version>.hnet")
      ->required();
  app.add_option("--watch_interval_s", options.lifecycle.watch_interval_s,
                 "Rescan --models this often (load new, reload changed, unload deleted "
                 "checkpoints); 0: only on SIGHUP or ModelAdmin.ReloadModels")
      ->capture_default_str();
  app.add_option("--keep_versions", keep_versions,
                 "Versions per model name kept loaded (the highest ones)")
      ->capture_default_str();
  app.add_flag("--admin_service{true}", options.lifecycle.admin_service,
               "Serve hnet.v1.ModelAdmin (LoadModel, UnloadModel, ReloadModels); it can read any "
               "file the server can: only behind --auth_token_file, --tls_client_ca or a "
               "loopback --address")
      ->multi_option_policy(CLI::MultiOptionPolicy::Throw)
      ->capture_default_str();
  app.add_option("--address", options.address, "Address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "Port; 0 picks a free one")->capture_default_str();
  app.add_option("--device", device_flag, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--threads", threads, "LibTorch threads per worker (default cores / workers)");
  app.add_option("--workers", options.workers, "Executor threads")->capture_default_str();
  app.add_option("--queue_capacity", options.queue_capacity, "Executor queue length")
      ->capture_default_str();
  app.add_option("--data_dir", options.data_dir,
                 "Datasets for InterpolatePath without inputs (default $HNET_DATA_DIR or data)");
  app.add_option("--max_networks", options.limits.max_networks, "Networks per SampleWeights")
      ->capture_default_str();
  app.add_option("--max_stream_networks", options.limits.max_stream_networks,
                 "Networks per StreamWeights")
      ->capture_default_str();
  app.add_option("--max_streams", options.limits.max_streams,
                 "StreamWeights calls served at once (each holds a gRPC thread)")
      ->capture_default_str();
  app.add_option("--max_ensemble_size", options.limits.max_ensemble_size, "K per Classify")
      ->capture_default_str();
  app.add_option("--max_inputs", options.limits.max_inputs,
                 "Images per Classify or InterpolatePath")
      ->capture_default_str();
  app.add_option("--max_path_points", options.limits.max_path_points, "Points per InterpolatePath")
      ->capture_default_str();
  app.add_option("--max_message_mb", max_message_mb, "Largest request or response message")
      ->capture_default_str();
  app.add_option("--max_batch_inputs", options.batching.max_batch_inputs,
                 "Classify batch size in images")
      ->capture_default_str();
  app.add_option("--batch_delay_ms", options.batching.batch_delay_ms,
                 "Longest wait for a Classify batch to fill")
      ->capture_default_str();
  app.add_option("--weight_cache_mb", options.batching.weight_cache_mb,
                 "Cache of generated ensemble weights")
      ->capture_default_str();
  app.add_option("--drain_timeout_s", options.drain_timeout_s,
                 "Grace for in-flight calls on SIGTERM/SIGINT")
      ->capture_default_str();
  app.add_option("--log_level", log_level, "debug, info, warn or error")->capture_default_str();
  hnet::server::SecurityFlags security;
  app.add_option("--tls_cert", security.tls_cert, "PEM certificate chain: serve TLS");
  app.add_option("--tls_key", security.tls_key, "PEM private key of --tls_cert");
  app.add_option("--tls_client_ca", security.tls_client_ca,
                 "PEM CA: require client certificates signed by it (mutual TLS)");
  app.add_option("--auth_token_file", security.auth_token_file,
                 "File holding a bearer token every hnet.v1 call must carry");
  app.add_option("--metrics_port", options.metrics_port,
                 "HTTP port of /metrics and /healthz; 0 disables")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--metrics_address", options.metrics_address, "Address of the metrics port")
      ->capture_default_str();
  hnet::flags::RequireDecimalIntegers(app);
  CLI11_PARSE(app, argc, argv);
  hnet::log::Init(log_level);

  if (max_message_mb < 1 || max_message_mb > 2047) {
    return Fail(absl::InvalidArgumentError("--max_message_mb must be in [1, 2047]"));
  }
  options.limits.max_message_bytes = max_message_mb << 20;
  if (absl::Status s = hnet::server::ValidateServerOptions(options); !s.ok()) return Fail(s);
  if (absl::Status s = hnet::server::LoadSecurityFlags(security, &options); !s.ok()) return Fail(s);
  if (keep_versions < 1) return Fail(absl::InvalidArgumentError("--keep_versions must be >= 1"));
  options.lifecycle.models_dir = models_dir;
  if (threads < 0) return Fail(absl::InvalidArgumentError("--threads must be >= 0 (0: default)"));
  if (threads == 0) threads = std::max(1, cores / options.workers);
  hnet::core::ConfigureRuntime(threads);

  auto device = hnet::core::ParseDevice(device_flag);
  if (!device.ok()) return Fail(device.status());
  hnet::server::RegistryOptions registry_options;
  registry_options.device = *device;
  registry_options.keep_versions = keep_versions;
  auto registry = hnet::server::ModelRegistry::LoadDirectory(models_dir, registry_options,
                                                             [] { return g_stop_requested != 0; });
  if (absl::IsCancelled(registry.status())) {
    hnet::log::Info("{}; exiting", std::string(registry.status().message()));
    return 0;
  }
  if (!registry.ok()) return Fail(registry.status());
  auto server = hnet::server::Server::Start(std::move(*registry), options);
  if (!server.ok()) return Fail(server.status());

  hnet::log::Info("serving on {} with {} workers x {} threads (BLAS: {})", device->str(),
                  options.workers, threads, hnet::core::BlasName());
  std::cout << "listening on " << (*server)->endpoint() << std::endl;

  char signal_number = 0;
  for (;;) {
    const ssize_t n = ::read(g_signal_pipe[0], &signal_number, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n == 1 && signal_number == SIGHUP) {
      hnet::log::Info("SIGHUP: rescanning {}", models_dir);
      (*server)->watcher().Rescan();  // Runs on the watcher thread, which logs the changes.
      continue;
    }
    break;
  }
  hnet::log::Info("signal {}: draining (up to {} s)", static_cast<int>(signal_number),
                  options.drain_timeout_s);
  (*server)->Shutdown();
  return 0;
}
