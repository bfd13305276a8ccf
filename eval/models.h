// What hnet-eval evaluates: a hypernetwork checkpoint turned into generated networks (batch
// norm in eval mode, as the server and the trainer's validation do), and the toy problem's
// generator. Loading validates everything and names the file in errors.
#ifndef HNET_EVAL_MODELS_H_
#define HNET_EVAL_MODELS_H_

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/hypernetwork.h"
#include "core/target_forward.h"
#include "core/target_spec.h"
#include "core/toy.h"
#include "hnet/v1/config.pb.h"

namespace hnet::eval {

struct HypernetModel {
  std::string path;
  hnet::v1::TrainingConfig config;  // As embedded in the checkpoint.
  int64_t step = 0;
  double lambda = 0;  // In effect when the checkpoint was written.
  core::TargetLayout layout;
  core::HyperNetwork network{nullptr};  // In eval mode, on `device`.
  c10::Device device = c10::Device(c10::kCPU);
};

// Reads an MNIST-family hypernetwork checkpoint onto `device`. InvalidArgument for a toy
// checkpoint; the checkpoint's own errors otherwise.
absl::StatusOr<HypernetModel> LoadHypernet(const std::string& path, c10::Device device);

// Draws n noise vectors from `generator` (CPU, so results do not depend on the device).
at::Tensor SampleZ(const HypernetModel& model, int64_t n, at::Generator& generator);

// Generated networks for z [n, z_dim] (raw, not gauge-fixed), layer l [n, F_l, S_l] on the
// model's device, computed without autograd in batches of `batch`.
core::WeightBatch Generate(const HypernetModel& model, const at::Tensor& z, int64_t batch = 250);

// The gauge used for weight-space analysis: scale and logits-bias gauge always, permutation
// gauge when the checkpoint was trained with it.
core::WeightBatch AnalysisGauge(const HypernetModel& model, const core::WeightBatch& weights);

struct ToyModel {
  std::string path;
  hnet::v1::ToyConfig toy;  // Defaulted (core::ToyDefaults).
  int64_t step = 0;
  core::ToyGenerator generator{nullptr};  // CPU, eval mode.
  core::GaussianMixture mixture;
};

// Reads a toy-problem checkpoint (config.toy set); InvalidArgument for any other checkpoint.
absl::StatusOr<ToyModel> LoadToy(const std::string& path);

}  // namespace hnet::eval

#endif  // HNET_EVAL_MODELS_H_
