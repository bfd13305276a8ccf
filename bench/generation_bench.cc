// Serving-side weight generation (server::GenerateWeights) for the paper's MNIST hypernetwork:
// networks/s by request size n and LibTorch threads (passes of 64 networks, one per thread).
// Run: build/bin/generation_bench   (HNET_BENCH_THREADS or --threads=N sets the process default)
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <memory>
#include <string>

#include "bench/bench_process.h"
#include "core/config.h"
#include "core/hypernetwork.h"
#include "server/generation.h"

namespace {

hnet::server::LoadedModel& Model() {
  static hnet::server::LoadedModel* model = [] {
    auto* m = new hnet::server::LoadedModel();
    const hnet::v1::TrainingConfig config =
        hnet::core::WithDefaults(hnet::core::LoadConfig("mnist").value());
    m->name = "mnist";
    m->layout = hnet::core::TargetLayout::Create(config.target()).value();
    m->network = std::make_shared<hnet::core::HyperNetworkImpl>(m->layout, config.hypernet());
    m->network->eval();
    return m;
  }();
  return *model;
}

// Args: n networks, LibTorch threads (so passes per wave), gauge fixing (0/1).
void BM_GenerateWeights(benchmark::State& state) {
  const int64_t n = state.range(0);
  const int previous = at::get_num_threads();
  at::set_num_threads(static_cast<int>(state.range(1)));
  const hnet::server::LoadedModel& model = Model();
  const at::Tensor z = hnet::server::SeedNoise(model, 1, n);
  const hnet::server::GaugeOptions gauge{state.range(2) != 0, false};
  for (auto _ : state) {
    auto weights = hnet::server::GenerateWeights(model, z, gauge);
    if (!weights.ok()) state.SkipWithError(std::string(weights.status().message()).c_str());
    benchmark::DoNotOptimize(weights);
  }
  state.counters["networks/s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  at::set_num_threads(previous);
}
BENCHMARK(BM_GenerateWeights)
    ->ArgNames({"n", "threads", "gauge"})
    ->ArgsProduct({{1, 512}, {1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  hnet::bench::SetUpBenchProcess(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
