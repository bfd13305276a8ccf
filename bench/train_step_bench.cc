// Training-step throughput of the paper's MNIST hypernetwork on this machine, and its parts.
// Run: build/bin/train_step_bench --threads=2  (set HNET_BENCH_THREADS or --threads)
// HNET_FUSED_CPU_CONV=0 runs the first layer through the library's grouped convolution;
// HNET_NETWORKS_PER_PASS=k runs the target forward in blocks of k networks.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>

#include "bench/bench_process.h"
#include "core/adam.h"
#include "core/config.h"
#include "core/conv_pool_cpu.h"
#include "core/diversity.h"
#include "core/gauge.h"
#include "core/hypernetwork.h"
#include "core/rng.h"
#include "core/target_forward.h"

namespace {

using hnet::core::WeightBatch;

struct Setup {
  hnet::v1::TrainingConfig config =
      hnet::core::WithDefaults(hnet::core::LoadConfig("mnist").value());
  hnet::core::TargetLayout layout = hnet::core::TargetLayout::Create(config.target()).value();
  hnet::core::HyperNetwork model{layout, config.hypernet()};
  at::Generator rng = hnet::core::MakeGenerator(1);
  at::Tensor images = torch::rand({4096, 1, 28, 28});
  at::Tensor labels = torch::randint(10, {4096});
  hnet::core::ForwardOptions forward;

  // n generated networks as leaf tensors that require grad (no hypernetwork in the graph).
  WeightBatch LeafWeights(int64_t n) {
    torch::NoGradGuard no_grad;
    WeightBatch w = model->forward(model->SampleZ(n, rng));
    for (auto& t : w) t = t.clone().requires_grad_(true);
    return w;
  }

  at::Tensor Images(int64_t b, int64_t m, at::Tensor* y) {
    at::Tensor index = torch::randint(images.size(0), {b * m}, rng);
    *y = labels.index_select(0, index);
    return images.index_select(0, index).view({b, m, 1, 28, 28});
  }
};

Setup& Shared() {
  static Setup* setup = new Setup();
  return *setup;
}

// One full step: hypernetwork, batched target forward, gauge fixing, entropy, backward, Adam.
void BM_TrainStep(benchmark::State& state) {
  Setup& s = Shared();
  std::vector<std::pair<std::string, at::Tensor>> params;
  for (const auto& item : s.model->named_parameters())
    params.emplace_back(item.key(), item.value());
  hnet::core::Adam adam(params, {});
  const int64_t b = s.config.batch_networks(), m = s.config.images_per_network();
  for (auto _ : state) {
    at::Tensor y;
    at::Tensor x = s.Images(b, m, &y);
    at::Tensor z = s.model->SampleZ(b, s.rng);
    WeightBatch w = s.model->forward(z);
    at::Tensor ce = torch::cross_entropy_loss(
        hnet::core::BatchedForward(s.layout, w, x, s.forward).reshape({b * m, -1}), y);
    at::Tensor h = hnet::core::Diversity(
        s.config.diversity(), hnet::core::FlattenWeights(hnet::core::ScaleGauge(s.layout, w)), 300);
    at::Tensor loss = s.config.lambda() * ce - h;
    adam.ZeroGrad();
    loss.backward();
    adam.Step(3e-4);
    benchmark::DoNotOptimize(loss.item<double>());
  }
  state.counters["steps_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TrainStep)->Unit(benchmark::kMillisecond)->MinTime(5.0)->UseRealTime();

void BM_HyperNetworkForwardBackward(benchmark::State& state) {
  Setup& s = Shared();
  for (auto _ : state) {
    WeightBatch w = s.model->forward(s.model->SampleZ(32, s.rng));
    hnet::core::FlattenWeights(w).sum().backward();
  }
}
BENCHMARK(BM_HyperNetworkForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

// The first layer alone (conv 5x5x32 + pool + ReLU of 32 networks x 32 images): arg 1 runs
// the fused CPU kernel, 0 the library's grouped convolution.
void BM_FirstLayerForwardBackward(benchmark::State& state) {
  Setup& s = Shared();
  const hnet::core::LayerShape& layer = s.layout.layers().front();
  hnet::core::ForwardOptions options;
  options.fused_cpu_conv = state.range(0) != 0;
  WeightBatch w = s.LeafWeights(32);
  for (auto _ : state) {
    at::Tensor y;
    at::Tensor x = s.Images(32, 32, &y).transpose(0, 1).reshape({32, 32, 28, 28});
    at::Tensor out;
    if (options.fused_cpu_conv) {
      out = hnet::core::ConvPoolReluCpu(layer, w[0], x);
    } else {
      at::Tensor kernels = w[0].narrow(2, 0, layer.fan_in()).reshape({-1, 1, 5, 5});
      out = torch::relu(torch::max_pool2d(
          torch::conv2d(x, kernels, w[0].select(2, layer.fan_in()).flatten(), 1, 2, 1, 32), 2, 2, 0,
          1, true));
    }
    out.sum().backward();
  }
}
BENCHMARK(BM_FirstLayerForwardBackward)
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_TargetForwardBackward(benchmark::State& state) {
  Setup& s = Shared();
  WeightBatch w = s.LeafWeights(32);
  for (auto _ : state) {
    at::Tensor y;
    at::Tensor x = s.Images(32, 32, &y);
    at::Tensor logits = hnet::core::BatchedForward(s.layout, w, x, s.forward);
    torch::cross_entropy_loss(logits.reshape({1024, -1}), y).backward();
  }
}
BENCHMARK(BM_TargetForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_GaugeAndEntropyForwardBackward(benchmark::State& state) {
  Setup& s = Shared();
  WeightBatch w = s.LeafWeights(32);
  for (auto _ : state) {
    hnet::core::KozachenkoLeonenkoEntropy(
        hnet::core::FlattenWeights(hnet::core::ScaleGauge(s.layout, w)), 300,
        hnet::core::Metric::kL2)
        .backward();
  }
}
BENCHMARK(BM_GaugeAndEntropyForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  hnet::bench::SetUpBenchProcess(argc, argv);
  if (const char* env = std::getenv("HNET_NETWORKS_PER_PASS")) {
    Shared().forward.networks_per_pass = std::atoi(env);
  }
  if (const char* env = std::getenv("HNET_FUSED_CPU_CONV")) {
    Shared().forward.fused_cpu_conv = std::atoi(env) != 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
