#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/rpc_bench_parts.h"

namespace hnet::bench {

LatencyRow BenchClassify(const std::string& label, int clients, int requests_per_client,
                         int warmup_per_client, bool fresh_seeds, const std::string& endpoint,
                         const hnet::server::LoadedModel& model, int ensemble,
                         const hnet::server::Server& server, AccessLogSink& access_log) {
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
    access_log.TakeAll("Classify");
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
  const std::vector<double> handler = access_log.TakeAll("Classify");
  row.handler_p50_s = Percentile(handler, 0.50);
  row.handler_p99_s = Percentile(handler, 0.99);
  std::vector<double> all;
  for (const auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  row.requests = static_cast<int64_t>(all.size());
  row.p50_s = Percentile(all, 0.50);
  row.p99_s = Percentile(all, 0.99);
  row.mean_s = Mean(all);
  row.max_s = all.empty() ? NAN : *std::max_element(all.begin(), all.end());
  return row;
}

}  // namespace hnet::bench
