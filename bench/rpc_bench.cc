// rpc_bench — loopback load program for hnet-server (a program, never a test).
//
// Starts an in-process hnet::server::Server on 127.0.0.1 over a real checkpoint (default:
// the paper-sized runs/mnist-2000.hnet) and measures
//
//  1. SampleWeights throughput for n networks (gauge_fixed false): networks/s and payload
//     bytes/s through hnet::client::Client and through the generated stub, next to a raw gRPC
//     baseline — a separate in-process server with a CallbackGenericService that answers
//     every call with a pre-built grpc::ByteBuffer holding exactly the bytes of the same
//     SampleWeightsResponse (so the same payload size), read with grpc::GenericStub. Each
//     call's time inside the server's handler (noise, G(z) in passes of kGenerationChunk,
//     encoding the response message) is taken from the server's own access-log line for that
//     call (captured by a spdlog sink), so the transport share of the very same call is
//     visible: transport = call − handler.
//  2. Classify latency for 1 image × K networks (seeded ensemble, MEAN_PROBABILITY) from 1 and
//     8 concurrent clients (one hnet::client::Client each), p50/p99 after warm-up, next to the
//     handler latencies the server logged; plus one client with a fresh seed per request
//     (weight-cache miss: G(z) on every call).
//
// Methods of part 1 are interleaved round by round (so drifting load on a shared machine hits
// all of them alike), each call after a short idle gap (--gap_ms), and reported as medians.
// The process is set up as hnet-server's main() does (core::ConfigureRuntime(--threads)).
// Prints Markdown tables to stdout; progress and server log lines go to stderr.
//
//   build-server/bin/rpc_bench --checkpoint runs/mnist-2000.hnet --threads 2 [--device cuda]

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/rpc_bench_parts.h"
#include "bench/rpc_bench_support.h"
#include "core/log.h"
#include "core/runtime.h"
#include "flags/flags.h"
#include "server/generation.h"
#include "server/responses.h"
#include "spdlog/spdlog.h"

#ifndef HNET_SOURCE_DIR
#define HNET_SOURCE_DIR "."
#endif

namespace hnet::bench {
namespace {

using ModelPtr = std::shared_ptr<const hnet::server::LoadedModel>;

int Main(int argc, char** argv) {
  CLI::App app{
      "rpc_bench: SampleWeights throughput and Classify latency of hnet-server over "
      "loopback, next to a raw gRPC baseline"};
  std::string checkpoint = std::string(HNET_SOURCE_DIR) + "/runs/mnist-2000.hnet";
  std::string models_dir;
  std::string model_name;
  int threads = 2;
  int workers = 2;
  std::string device_flag = "cpu";
  std::vector<int> sizes = {1, 10, 100, 500};
  double min_time = 6.0;
  int min_rounds = 25;
  int max_rounds = 200;
  int gap_ms = 5;
  std::string dump_path;
  std::vector<int> client_counts = {1, 8};
  int ensemble = 100;
  int requests = 200;
  int warmup = 20;
  int cold_requests = 50;
  std::string log_level = "warn";
  app.add_option("--checkpoint", checkpoint, "A *.hnet checkpoint to serve")->capture_default_str();
  app.add_option("--models", models_dir, "Serve every *.hnet of this directory instead");
  app.add_option("--model", model_name, "Model to benchmark (default: the only/first one)");
  app.add_option("--threads", threads, "at::set_num_threads for the whole process (server side)")
      ->capture_default_str();
  app.add_option("--workers", workers, "Server executor threads")->capture_default_str();
  app.add_option("--device", device_flag, "Where the models run: auto, cpu, cuda or cuda:N")
      ->capture_default_str();
  app.add_option("--sizes", sizes, "SampleWeights n values")->delimiter(',')->capture_default_str();
  app.add_option("--min_time", min_time, "Seconds per SampleWeights size (all methods)")
      ->capture_default_str();
  app.add_option("--min_rounds", min_rounds, "Rounds per SampleWeights size, at least")
      ->capture_default_str();
  app.add_option("--max_rounds", max_rounds, "Rounds per SampleWeights size, at most")
      ->capture_default_str();
  app.add_option("--gap_ms", gap_ms, "Idle pause before each timed SampleWeights-part call")
      ->capture_default_str();
  app.add_option("--dump_times", dump_path, "Write every SampleWeights-part call time (CSV)");
  app.add_option("--clients", client_counts, "Concurrent Classify clients")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--ensemble", ensemble, "K networks per Classify")->capture_default_str();
  app.add_option("--requests", requests, "Timed Classify requests per client")
      ->capture_default_str();
  app.add_option("--warmup", warmup, "Untimed Classify requests per client first")
      ->capture_default_str();
  app.add_option("--cold_requests", cold_requests,
                 "Classify requests with a fresh seed each (1 client); 0 skips")
      ->capture_default_str();
  app.add_option("--log_level", log_level, "Server log level (info logs every call)")
      ->capture_default_str();
  hnet::flags::RequireDecimalIntegers(app);
  CLI11_PARSE(app, argc, argv);
  // Log lines go to stderr at --log_level; the tables to stdout. The access log (info) is
  // always captured by `access_log`.
  hnet::log::Init(log_level);
  const auto access_log = std::make_shared<AccessLogSink>();
  {
    const spdlog::level::level_enum level = spdlog::level::from_str(log_level);
    std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
    for (const spdlog::sink_ptr& sink : logger->sinks()) sink->set_level(level);
    access_log->set_level(spdlog::level::info);
    logger->sinks().push_back(access_log);
    logger->set_level(std::min(level, spdlog::level::info));
  }
  // As hnet-server's main(): at::set_num_threads(threads) plus its allocator settings.
  hnet::core::ConfigureRuntime(threads);

  // Models and server.
  hnet::server::RegistryOptions registry_options;  // Warmed up.
  registry_options.device = Check(hnet::core::ParseDevice(device_flag), "--device");
  std::shared_ptr<hnet::server::ModelRegistry> registry;
  if (!models_dir.empty()) {
    registry = Check(hnet::server::ModelRegistry::LoadDirectory(models_dir, registry_options),
                     "loading " + models_dir);
  } else {
    if (!std::filesystem::exists(checkpoint)) Die("no checkpoint " + checkpoint);
    const std::string name = std::filesystem::path(checkpoint).stem().string();
    ModelPtr m =
        Check(hnet::server::LoadModel(checkpoint, name, registry_options), "loading " + checkpoint);
    registry = std::make_shared<hnet::server::ModelRegistry>(std::vector<ModelPtr>{m});
  }
  const ModelPtr model =
      model_name.empty() ? registry->models().front() : Check(registry->Find(model_name), "model");

  hnet::server::ServerOptions server_options;
  server_options.address = "127.0.0.1";
  server_options.port = 0;
  server_options.workers = workers;
  server_options.drain_timeout_s = 2;
  std::unique_ptr<hnet::server::Server> server =
      Check(hnet::server::Server::Start(registry, server_options), "starting the server");
  const std::string endpoint = server->endpoint();

  // Pre-built payloads: the exact bytes of each SampleWeightsResponse, computed in-process.
  RawPayloadService raw_service;
  std::map<int, std::string> payloads;
  for (int n : sizes) {
    if (n < 1 || n > server_options.limits.max_networks) Die(absl::StrCat("bad size ", n));
    at::Tensor z = hnet::server::SeedNoise(*model, kSampleSeed, n);
    auto weights = Check(hnet::server::GenerateWeights(*model, z), "GenerateWeights");
    payloads[n] = hnet::server::MakeSampleResponse(*model, weights, z, false).SerializeAsString();
    raw_service.Add(absl::StrCat("/bench.Raw/", n), payloads[n]);
  }
  grpc::ServerBuilder raw_builder;
  int raw_port = 0;
  raw_builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &raw_port);
  raw_builder.SetMaxReceiveMessageSize(64 << 20);
  raw_builder.SetMaxSendMessageSize(std::numeric_limits<int>::max());
  raw_builder.RegisterCallbackGenericService(&raw_service);
  std::unique_ptr<grpc::Server> raw_server = raw_builder.BuildAndStart();
  if (raw_server == nullptr || raw_port == 0) Die("cannot start the raw baseline server");
  const std::string raw_endpoint = absl::StrCat("127.0.0.1:", raw_port);

  hnet::client::ClientOptions client_options;
  client_options.addresses = {endpoint};
  client_options.max_attempts = 1;
  client_options.deadline = absl::Seconds(120);
  auto client = Check(hnet::client::Client::Connect(client_options), "Client::Connect");
  auto stub = hnet::v1::HyperNet::NewStub(UnlimitedChannel(endpoint));
  grpc::GenericStub raw_stub(UnlimitedChannel(raw_endpoint));

  const std::string load_before = LoadAverage();
  const Clock::time_point bench_start = Clock::now();

  std::vector<SampleRow> sample_rows;
  std::ofstream dump;
  if (!dump_path.empty()) {
    dump.open(dump_path);
    if (!dump) Die("cannot write " + dump_path);
    dump << "n,round,method,seconds,handler_seconds\n";
  }
  for (int n : sizes) {
    std::cerr << "SampleWeights n=" << n << " ...\n";
    sample_rows.push_back(BenchSampleWeights(
        n, *model, *access_log, payloads[n], *client, *stub, raw_stub, min_time, min_rounds,
        max_rounds, std::chrono::milliseconds(gap_ms), dump_path.empty() ? nullptr : &dump));
  }
  std::vector<LatencyRow> latency_rows;
  for (int c : client_counts) {
    std::cerr << "Classify clients=" << c << " ...\n";
    latency_rows.push_back(BenchClassify(absl::StrCat("seed fixed (cached weights)"), c, requests,
                                         warmup, false, endpoint, *model, ensemble, *server,
                                         *access_log));
  }
  if (cold_requests > 0) {
    std::cerr << "Classify fresh seeds ...\n";
    latency_rows.push_back(BenchClassify("fresh seed per request (G(z) each call)", 1,
                                         cold_requests, 3, true, endpoint, *model, ensemble,
                                         *server, *access_log));
  }
  const double bench_s = Seconds(bench_start, Clock::now());
  const std::string load_after = LoadAverage();

  // Report.
  const hnet::v1::ModelInfo& info = model->info;
  std::cout << "## rpc_bench: hnet-server over loopback (127.0.0.1)\n\n";
  std::cout << absl::StrFormat(
      "model `%s` (%s): %d hypernetwork parameters, %d weights per generated network, z_dim %d; "
      "server in-process, %d workers, at::get_num_threads() = %d, device %s; BLAS %s; "
      "gRPC %s; %u hardware threads; load average %s before, %s after (%.0f s)\n\n",
      model->name, model->path, info.parameter_count(), info.weight_count(), info.z_dim(), workers,
      at::get_num_threads(), model->device.str(), hnet::core::BlasName(), grpc::Version(),
      std::thread::hardware_concurrency(), load_before, load_after, bench_s);

  std::cout << "### SampleWeights (gauge_fixed false), median per call\n\n";
  std::cout << "| n | payload | rounds | hnet::client ms | networks/s | MB/s | stub ms | "
               "raw gRPC ms | raw MB/s | **ours/raw** |\n";
  std::cout << "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const SampleRow& r : sample_rows) {
    const double mb = static_cast<double>(r.payload_bytes) / 1e6;
    std::cout << absl::StrFormat(
        "| %d | %.3f MB | %d | %.2f | %.0f | %.1f | %.2f | %.2f | %.1f | "
        "%.0f%% |\n",
        r.n, mb, r.rounds, r.client_s * 1e3, r.n / r.client_s, mb / r.client_s, r.stub_s * 1e3,
        r.raw_s * 1e3, mb / r.raw_s, 100 * r.raw_s / r.client_s);
  }
  std::cout << "\n### SampleWeights: where the time goes (median ms per call)\n\n";
  std::cout << "| n | server handler (G(z) + encode) | hnet::client | transport (client − "
               "handler) | stub − handler | raw gRPC | raw + proto parse | proto serialize | "
               "**transport-only ours/raw** | bytes == in-process |\n";
  std::cout << "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|\n";
  for (const SampleRow& r : sample_rows) {
    std::cout << absl::StrFormat(
        "| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f%% | %s |\n", r.n,
        r.handler_s * 1e3, r.client_s * 1e3, r.client_transport_s * 1e3, r.stub_transport_s * 1e3,
        r.raw_s * 1e3, r.raw_parse_s * 1e3, r.serialize_s * 1e3,
        100 * r.raw_s / r.client_transport_s, r.identical ? "yes" : "no");
  }
  std::cout << absl::StrFormat(
      "\nmedians over the rounds; methods interleaved round by round, %d ms idle before each "
      "call. ours/raw = raw time / hnet::client time for the same payload bytes. server "
      "handler = the latency the server logged for each hnet::client call (noise, G(z) in "
      "passes of %d networks — n = 1 costs a full pass — and encoding the response); "
      "transport = call time − that call's handler time; transport-only ours/raw = raw time / "
      "transport. raw + proto parse: the raw call, then the payload parsed into "
      "SampleWeightsResponse; proto serialize: gRPC serializing that response in-process (what "
      "the server's zero-copy wire encoding replaces). bytes == in-process: the stub's response "
      "equals the payload generated in-process.\n\n",
      gap_ms, hnet::server::kGenerationChunk);

  std::cout << absl::StrFormat("### Classify: 1 image x %d networks, MEAN_PROBABILITY\n\n",
                               ensemble);
  std::cout << "| noise | clients | requests | **p50 ms** | **p99 ms** | mean ms | max ms | "
               "requests/s | server handler p50 / p99 ms | requests per ensemble pass |\n";
  std::cout << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const LatencyRow& r : latency_rows) {
    std::cout << absl::StrFormat(
        "| %s | %d | %d | %.2f | %.2f | %.2f | %.2f | %.0f | %.2f / %.2f | %.2f |\n", r.label,
        r.clients, r.requests, r.p50_s * 1e3, r.p99_s * 1e3, r.mean_s * 1e3, r.max_s * 1e3,
        r.requests / r.wall_s, r.handler_p50_s * 1e3, r.handler_p99_s * 1e3,
        r.passes > 0 ? static_cast<double>(r.requests) / r.passes : NAN);
  }
  std::cout << absl::StrFormat(
      "\nLatency per hnet::client::Client::Classify call after %d untimed requests per client, "
      "all clients started together; one fixed pseudo-random uint8 image [1, %d, %d, %d]; "
      "server handler = latencies "
      "the server logged (batching wait, weights from the cache or G(z), ensemble forward). "
      "Server batching delay %d ms, weight cache %d MB.\n",
      warmup, model->layout.input_channels(), model->layout.input_height(),
      model->layout.input_width(), server_options.batching.batch_delay_ms,
      server_options.batching.weight_cache_mb);

  client.reset();
  stub.reset();
  raw_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server->Shutdown();
  return 0;
}

}  // namespace
}  // namespace hnet::bench

int main(int argc, char** argv) { return hnet::bench::Main(argc, argv); }
