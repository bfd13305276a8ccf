// rpc_bench — loopback load program for hnet-server (a program, never a test).
//
// Starts an in-process hnet::server::Server on 127.0.0.1 over a real checkpoint (default:
// the paper-sized runs/mnist-2000.hnet) and measures
//
//  1. SampleWeights throughput for n networks (gauge_fixed false): networks/s and payload
//     bytes/s through hnet::client::Client and through the generated stub, next to a raw gRPC
//     baseline — a separate in-process server with a CallbackGenericService that answers
//     every call with a pre-built grpc::ByteBuffer holding exactly the bytes of the same
//     SampleWeightsResponse (so the same payload size), read with grpc::GenericStub. The
//     server-side compute of SampleWeights (noise, G(z) in passes of kGenerationChunk,
//     encoding into the response message) is timed in-process on the same model, so the
//     transport share of a call is visible: transport ≈ call − compute.
//  2. Classify latency for 1 image × K networks (seeded ensemble, MEAN_PROBABILITY) from 1 and
//     8 concurrent clients (one hnet::client::Client each), p50/p99 after warm-up; plus one
//     client with a fresh seed per request (weight-cache miss: G(z) on every call).
//
// Methods of part 1 are interleaved round by round (so drifting load on a shared machine hits
// all of them alike) and reported as medians. Prints Markdown tables to stdout.
//
//   build-server/bin/rpc_bench --checkpoint runs/mnist-2000.hnet --threads 2
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/byte_buffer.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/client.h"
#include "core/log.h"
#include "hnet/v1/service.grpc.pb.h"
#include "server/generation.h"
#include "server/model_registry.h"
#include "server/responses.h"
#include "server/server.h"

#ifndef HNET_SOURCE_DIR
#define HNET_SOURCE_DIR "."
#endif

namespace {

using Clock = std::chrono::steady_clock;
using ModelPtr = std::shared_ptr<const hnet::server::LoadedModel>;

constexpr uint64_t kSampleSeed = 12345;
constexpr uint64_t kEnsembleSeed = 2018;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "rpc_bench: " << what << "\n";
  std::exit(1);
}

template <typename T>
T Check(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(absl::StrCat(what, ": ", v.status().ToString()));
  return *std::move(v);
}

void CheckGrpc(const grpc::Status& s, const std::string& what) {
  if (!s.ok()) Die(absl::StrCat(what, ": gRPC ", s.error_code(), " ", s.error_message()));
}

// Nearest-rank percentile of `v` (q in [0, 1]).
double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double Mean(const std::vector<double>& v) {
  return v.empty() ? NAN : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

std::shared_ptr<grpc::Channel> UnlimitedChannel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

// ---------------------------------------------------------------------------------------------
// The raw baseline: a generic callback service answering method "/bench.Raw/<n>" with a
// pre-built ByteBuffer (copies of a ByteBuffer share its slices: no per-call copy or encode).

class RawPayloadService final : public grpc::CallbackGenericService {
 public:
  // Not thread-safe; fill before the server starts.
  void Add(const std::string& method, const std::string& bytes) {
    grpc::Slice slice(bytes);
    payloads_.emplace(method, grpc::ByteBuffer(&slice, 1));
  }

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    auto it = payloads_.find(ctx->method());
    return new Reactor(it == payloads_.end() ? nullptr : &it->second);
  }

 private:
  class Reactor final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Reactor(const grpc::ByteBuffer* payload) : payload_(payload) {
      if (payload_ == nullptr) {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method"));
        return;
      }
      StartRead(&request_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
        return;
      }
      response_ = *payload_;  // Shares the slices.
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    const grpc::ByteBuffer* payload_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_;
  };

  std::map<std::string, grpc::ByteBuffer> payloads_;
};

// One blocking unary call through the generic stub; returns the response bytes.
grpc::Status RawCall(grpc::GenericStub& stub, const std::string& method,
                     const grpc::ByteBuffer& request, grpc::ByteBuffer* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, response,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  return status;
}

grpc::ByteBuffer SerializeToByteBuffer(const google::protobuf::MessageLite& message) {
  const std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// ---------------------------------------------------------------------------------------------
// Part 1: SampleWeights.

struct SampleRow {
  int n = 0;
  int64_t payload_bytes = 0;
  int rounds = 0;
  double compute_s = 0;    // in-process: noise + G(z) + encode into the response message
  double client_s = 0;     // hnet::client::Client::SampleWeights
  double stub_s = 0;       // generated HyperNet::Stub::SampleWeights
  double raw_s = 0;        // generic stub, pre-built payload, bytes only
  double raw_parse_s = 0;  // as raw, then parsed into SampleWeightsResponse
  bool identical = false;  // the server's response bytes equal the in-process ones
};

SampleRow BenchSampleWeights(int n, const hnet::server::LoadedModel& model,
                             const std::string& payload, const hnet::client::Client& client,
                             hnet::v1::HyperNet::Stub& stub, grpc::GenericStub& raw_stub,
                             double min_seconds, int min_rounds, int max_rounds) {
  SampleRow row;
  row.n = n;
  row.payload_bytes = static_cast<int64_t>(payload.size());

  hnet::client::SampleOptions options;
  options.n = n;
  options.noise = hnet::client::Noise::FromSeed(kSampleSeed);
  options.gauge_fixed = false;

  hnet::v1::SampleWeightsRequest request;
  request.set_model(model.name);
  request.set_n(n);
  request.mutable_noise()->set_seed(kSampleSeed);
  request.set_gauge_fixed(false);
  const grpc::ByteBuffer raw_request = SerializeToByteBuffer(request);
  const std::string raw_method = absl::StrCat("/bench.Raw/", n);

  auto compute = [&] {
    at::Tensor z = hnet::server::SeedNoise(model, kSampleSeed, n);
    auto weights = Check(hnet::server::GenerateWeights(model, z), "GenerateWeights");
    hnet::v1::SampleWeightsResponse r = hnet::server::MakeSampleResponse(model, weights, z, false);
    if (static_cast<int64_t>(r.ByteSizeLong()) != row.payload_bytes) Die("compute: size differs");
  };
  auto via_client = [&] {
    auto r = Check(client.SampleWeights(model.name, options), "Client::SampleWeights");
    if (static_cast<int>(r.layers.size()) != model.layout.num_layers()) Die("client: layers");
  };
  hnet::v1::SampleWeightsResponse stub_response;
  auto via_stub = [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    hnet::v1::SampleWeightsResponse r;
    CheckGrpc(stub.SampleWeights(&context, request, &r), "Stub::SampleWeights");
    stub_response.Swap(&r);
  };
  auto via_raw = [&] {
    grpc::ByteBuffer response;
    CheckGrpc(RawCall(raw_stub, raw_method, raw_request, &response), "raw call");
    if (static_cast<int64_t>(response.Length()) != row.payload_bytes) Die("raw: size differs");
  };
  auto via_raw_parse = [&] {
    grpc::ByteBuffer response;
    CheckGrpc(RawCall(raw_stub, raw_method, raw_request, &response), "raw call");
    hnet::v1::SampleWeightsResponse r;
    CheckGrpc(grpc::SerializationTraits<hnet::v1::SampleWeightsResponse>::Deserialize(&response, &r),
              "raw parse");
  };

  // Warm-up (connections, allocator, first-touch of large buffers).
  for (int i = 0; i < 2; ++i) {
    compute();
    via_raw();
    via_raw_parse();
    via_stub();
    via_client();
  }
  row.identical = stub_response.SerializeAsString() == payload;

  const std::vector<std::function<void()>> methods = {compute, via_raw, via_raw_parse, via_stub,
                                                      via_client};
  std::vector<std::vector<double>> times(methods.size());
  const Clock::time_point start = Clock::now();
  int round = 0;
  while (round < max_rounds &&
         (round < min_rounds || Seconds(start, Clock::now()) < min_seconds)) {
    for (size_t k = 0; k < methods.size(); ++k) {
      const size_t m = (k + static_cast<size_t>(round)) % methods.size();  // Rotate the order.
      const Clock::time_point t0 = Clock::now();
      methods[m]();
      times[m].push_back(Seconds(t0, Clock::now()));
    }
    ++round;
  }
  row.rounds = round;
  row.compute_s = Percentile(times[0], 0.5);
  row.raw_s = Percentile(times[1], 0.5);
  row.raw_parse_s = Percentile(times[2], 0.5);
  row.stub_s = Percentile(times[3], 0.5);
  row.client_s = Percentile(times[4], 0.5);
  return row;
}

// ---------------------------------------------------------------------------------------------
// Part 2: Classify latency.

struct LatencyRow {
  std::string label;
  int clients = 0;
  int64_t requests = 0;
  double p50_s = 0, p99_s = 0, mean_s = 0, max_s = 0;
  double wall_s = 0;
  int64_t passes = 0;  // ensemble passes the batcher ran during the timed phase
};

LatencyRow BenchClassify(const std::string& label, int clients, int requests_per_client,
                         int warmup_per_client, bool fresh_seeds, const std::string& endpoint,
                         const hnet::server::LoadedModel& model, int ensemble,
                         const hnet::server::Server& server) {
  const hnet::core::TargetLayout& layout = model.layout;
  hnet::client::Tensor image;
  image.dtype = hnet::client::DType::kUint8;
  image.shape = {1, layout.input_channels(), layout.input_height(), layout.input_width()};
  image.bytes.resize(static_cast<size_t>(layout.input_channels() * layout.input_height() *
                                         layout.input_width()));
  uint32_t state = 12345;  // A fixed pseudo-random image: the cost does not depend on pixels.
  for (char& c : image.bytes) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }

  std::atomic<uint64_t> next_seed{1000000};
  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  std::vector<std::vector<double>> latencies(clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      hnet::client::ClientOptions client_options;
      client_options.addresses = {endpoint};
      client_options.max_attempts = 1;
      client_options.deadline = absl::Seconds(120);
      auto client = Check(hnet::client::Client::Connect(client_options), "Client::Connect");
      auto call = [&] {
        hnet::client::ClassifyOptions options;
        options.ensemble_size = ensemble;
        options.noise = hnet::client::Noise::FromSeed(fresh_seeds ? next_seed.fetch_add(1)
                                                                  : kEnsembleSeed);
        options.rule = hnet::client::EnsembleRule::kMeanProbability;
        auto r = Check(client->Classify(model.name, image, options), "Client::Classify");
        if (r.predictions.size() != 1) Die("Classify: expected one prediction");
      };
      for (int i = 0; i < warmup_per_client; ++i) call();
      {
        std::unique_lock<std::mutex> lock(mu);
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return go; });
      }
      latencies[c].reserve(requests_per_client);
      for (int i = 0; i < requests_per_client; ++i) {
        const Clock::time_point t0 = Clock::now();
        call();
        latencies[c].push_back(Seconds(t0, Clock::now()));
      }
    });
  }
  int64_t passes_before = 0;
  Clock::time_point start;
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return ready == clients; });
    passes_before = server.batcher().batches_run();
    start = Clock::now();
    go = true;
    cv.notify_all();
  }
  for (std::thread& t : threads) t.join();

  LatencyRow row;
  row.label = label;
  row.clients = clients;
  row.wall_s = Seconds(start, Clock::now());
  row.passes = server.batcher().batches_run() - passes_before;
  std::vector<double> all;
  for (const auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  row.requests = static_cast<int64_t>(all.size());
  row.p50_s = Percentile(all, 0.50);
  row.p99_s = Percentile(all, 0.99);
  row.mean_s = Mean(all);
  row.max_s = all.empty() ? NAN : *std::max_element(all.begin(), all.end());
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rpc_bench: SampleWeights throughput and Classify latency of hnet-server over "
               "loopback, next to a raw gRPC baseline"};
  std::string checkpoint = std::string(HNET_SOURCE_DIR) + "/runs/mnist-2000.hnet";
  std::string models_dir;
  std::string model_name;
  int threads = 2;
  int workers = 2;
  std::vector<int> sizes = {1, 10, 100, 500};
  double min_time = 3.0;
  int min_rounds = 5;
  int max_rounds = 200;
  std::vector<int> client_counts = {1, 8};
  int ensemble = 100;
  int requests = 200;
  int warmup = 20;
  int cold_requests = 50;
  std::string log_level = "warn";
  app.add_option("--checkpoint", checkpoint, "A *.hnet checkpoint to serve")
      ->capture_default_str();
  app.add_option("--models", models_dir, "Serve every *.hnet of this directory instead");
  app.add_option("--model", model_name, "Model to benchmark (default: the only/first one)");
  app.add_option("--threads", threads, "at::set_num_threads for the whole process (server side)")
      ->capture_default_str();
  app.add_option("--workers", workers, "Server executor threads")->capture_default_str();
  app.add_option("--sizes", sizes, "SampleWeights n values")->delimiter(',')->capture_default_str();
  app.add_option("--min_time", min_time, "Seconds per SampleWeights size (all methods)")
      ->capture_default_str();
  app.add_option("--min_rounds", min_rounds, "Rounds per SampleWeights size, at least")
      ->capture_default_str();
  app.add_option("--max_rounds", max_rounds, "Rounds per SampleWeights size, at most")
      ->capture_default_str();
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
  CLI11_PARSE(app, argc, argv);
  hnet::log::Init(log_level);  // Log lines go to stderr; the tables to stdout.
  at::set_num_threads(threads);

  // Models and server.
  hnet::server::RegistryOptions registry_options;  // CPU, warmed up.
  std::shared_ptr<const hnet::server::ModelRegistry> registry;
  if (!models_dir.empty()) {
    registry = Check(hnet::server::ModelRegistry::LoadDirectory(models_dir, registry_options),
                     "loading " + models_dir);
  } else {
    if (!std::filesystem::exists(checkpoint)) Die("no checkpoint " + checkpoint);
    const std::string name = std::filesystem::path(checkpoint).stem().string();
    ModelPtr m = Check(hnet::server::LoadModel(checkpoint, name, registry_options),
                       "loading " + checkpoint);
    registry = std::make_shared<hnet::server::ModelRegistry>(std::vector<ModelPtr>{m});
  }
  const ModelPtr model = model_name.empty() ? registry->models().front()
                                            : Check(registry->Find(model_name), "model");

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
  for (int n : sizes) {
    std::cerr << "SampleWeights n=" << n << " ...\n";
    sample_rows.push_back(BenchSampleWeights(n, *model, payloads[n], *client, *stub, raw_stub,
                                             min_time, min_rounds, max_rounds));
  }
  std::vector<LatencyRow> latency_rows;
  for (int c : client_counts) {
    std::cerr << "Classify clients=" << c << " ...\n";
    latency_rows.push_back(BenchClassify(absl::StrCat("seed fixed (cached weights)"), c,
                                         requests, warmup, false, endpoint, *model, ensemble,
                                         *server));
  }
  if (cold_requests > 0) {
    std::cerr << "Classify fresh seeds ...\n";
    latency_rows.push_back(BenchClassify("fresh seed per request (G(z) each call)", 1,
                                         cold_requests, 3, true, endpoint, *model, ensemble,
                                         *server));
  }
  const double bench_s = Seconds(bench_start, Clock::now());
  const std::string load_after = LoadAverage();

  // Report.
  const hnet::v1::ModelInfo& info = model->info;
  std::cout << "## rpc_bench: hnet-server over loopback (127.0.0.1)\n\n";
  std::cout << absl::StrFormat(
      "model `%s` (%s): %d hypernetwork parameters, %d weights per generated network, z_dim %d; "
      "server in-process, %d workers, at::get_num_threads() = %d, device %s; gRPC %s; "
      "%u hardware threads; load average %s before, %s after (%.0f s)\n\n",
      model->name, model->path, info.parameter_count(), info.weight_count(), info.z_dim(),
      workers, at::get_num_threads(), model->device.str(), grpc::Version(),
      std::thread::hardware_concurrency(), load_before, load_after, bench_s);

  std::cout << "### SampleWeights (gauge_fixed false), median per call\n\n";
  std::cout << "| n | payload | rounds | hnet::client ms | networks/s | MB/s | stub ms | "
               "raw gRPC ms | raw MB/s | **ours/raw** |\n";
  std::cout << "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const SampleRow& r : sample_rows) {
    const double mb = static_cast<double>(r.payload_bytes) / 1e6;
    std::cout << absl::StrFormat("| %d | %.3f MB | %d | %.2f | %.0f | %.1f | %.2f | %.2f | %.1f | "
                                 "%.0f%% |\n",
                                 r.n, mb, r.rounds, r.client_s * 1e3, r.n / r.client_s,
                                 mb / r.client_s, r.stub_s * 1e3, r.raw_s * 1e3, mb / r.raw_s,
                                 100 * r.raw_s / r.client_s);
  }
  std::cout << "\n### SampleWeights: where the time goes (median ms per call)\n\n";
  std::cout << "| n | server compute (noise + G(z) + encode) | hnet::client | client − compute "
               "| raw gRPC | raw + proto parse | transport-only ours/raw | stub bytes == "
               "in-process |\n";
  std::cout << "|---:|---:|---:|---:|---:|---:|---:|:---:|\n";
  for (const SampleRow& r : sample_rows) {
    const double transport = r.client_s - r.compute_s;
    std::cout << absl::StrFormat(
        "| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s |\n", r.n, r.compute_s * 1e3,
        r.client_s * 1e3, transport * 1e3, r.raw_s * 1e3, r.raw_parse_s * 1e3,
        transport > 0 ? absl::StrFormat("%.0f%%", 100 * r.raw_s / transport) : "n/a",
        r.identical ? "yes" : "no");
  }
  std::cout << absl::StrFormat(
      "\nG(z) runs in passes of %d networks (the last padded), so n = 1 costs one full pass. "
      "ours/raw = raw time / hnet::client time (equal payload bytes); transport-only divides "
      "by (hnet::client − server compute) instead.\n\n",
      hnet::server::kGenerationChunk);

  std::cout << absl::StrFormat("### Classify: 1 image x %d networks, MEAN_PROBABILITY\n\n",
                               ensemble);
  std::cout << "| noise | clients | requests | p50 ms | p99 ms | mean ms | max ms | "
               "requests/s | requests per ensemble pass |\n";
  std::cout << "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const LatencyRow& r : latency_rows) {
    std::cout << absl::StrFormat("| %s | %d | %d | %.2f | %.2f | %.2f | %.2f | %.0f | %.2f |\n",
                                 r.label, r.clients, r.requests, r.p50_s * 1e3, r.p99_s * 1e3,
                                 r.mean_s * 1e3, r.max_s * 1e3, r.requests / r.wall_s,
                                 r.passes > 0 ? static_cast<double>(r.requests) / r.passes : NAN);
  }
  std::cout << absl::StrFormat(
      "\nAfter %d untimed requests per client; server batching delay %d ms, weight cache %d MB.\n",
      warmup, server_options.batching.batch_delay_ms, server_options.batching.weight_cache_mb);

  client.reset();
  stub.reset();
  raw_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server->Shutdown();
  return 0;
}
