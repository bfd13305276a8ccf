// Noise and weights for a loaded model, computed exactly as the trainer does: z from
// core::MakeGenerator(seed) and SampleZ on the CPU, G(z) in eval mode on the model's device.
#ifndef HNET_SERVER_GENERATION_H_
#define HNET_SERVER_GENERATION_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "core/target_forward.h"
#include "server/executor.h"
#include "server/model_registry.h"

namespace hnet::server {

// Networks per hypernetwork pass. Every pass has exactly this many rows (the last one is
// padded with zero noise): BLAS kernels pick different summation orders for different batch
// sizes, so a fixed pass size makes a network's bits depend only on its z and the model (on a
// given device type and build), not on n, its position in a request or the RPC used.
// On the CPU a pass that shares its wave with others runs its ATen ops on one thread, a lone
// pass on several: every op in G and the gauges gives the same bits either way (matrix
// products on one BLAS thread, elementwise ops, row-wise reductions, stable sorts; tested),
// and any op added to them must too.
inline constexpr int64_t kGenerationChunk = 64;

// Passes GenerateWeights runs at once on `device`: on the CPU one per LibTorch thread
// (at::get_num_threads(); each pass's BLAS calls run on its own thread) when built with
// OpenMP, otherwise 1.
int64_t GenerationWave(const c10::Device& device);

// n noise vectors [n, z_dim] (float32, CPU) drawn from `seed`:
// model.network->SampleZ(n, core::MakeGenerator(seed)).
at::Tensor SeedNoise(const LoadedModel& model, uint64_t seed, int64_t n);

struct GaugeOptions {
  bool scale = false;        // Scale and logits-bias gauge (core::ScaleGauge).
  bool permutation = false;  // Then the permutation gauge; requires scale.
};

// Raw or gauge-fixed weights of the networks for z [n, z_dim] float32, layer l
// [n, F_l, S_l] float32 contiguous on the model's device, generated kGenerationChunk networks
// per pass without autograd, GenerationWave passes at a time. CANCELLED when `cancellation`
// trips between waves; INTERNAL on a LibTorch error. Thread-safe: the model, in eval mode as
// loaded, is only read.
absl::StatusOr<core::WeightBatch> GenerateWeights(const LoadedModel& model, const at::Tensor& z,
                                                  const GaugeOptions& gauge = {},
                                                  const Cancellation* cancellation = nullptr);

// As above, stopping with CANCELLED when `cancelled()` returns true between waves (e.g. once
// every request of a batch is cancelled); it is called on the calling thread only and may be
// empty.
absl::StatusOr<core::WeightBatch> GenerateWeights(const LoadedModel& model, const at::Tensor& z,
                                                  const GaugeOptions& gauge,
                                                  const std::function<bool()>& cancelled);

// Weights of network i of `batch` as per-network tensors [F_l, S_l] (views).
core::WeightBatch SelectNetwork(const core::WeightBatch& batch, int64_t i);

}  // namespace hnet::server

#endif  // HNET_SERVER_GENERATION_H_
