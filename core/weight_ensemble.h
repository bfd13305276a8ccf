// Weight ensembles: a set of N explicit target networks (e.g. conventionally trained baselines) as
// flat weights, stored in the verified container of core/container.h with magic "HNETWENS" (payload
// hnet.v1.WeightEnsembleFile). Evaluation treats them like N networks sampled from a hypernetwork.
#ifndef HNET_CORE_WEIGHT_ENSEMBLE_H_
#define HNET_CORE_WEIGHT_ENSEMBLE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hnet/v1/checkpoint.pb.h"
#include "hnet/v1/config.pb.h"

namespace hnet::core {

inline constexpr uint32_t kWeightEnsembleFormatVersion = 1;

// A set of N explicit target networks, flat weights.
struct WeightEnsemble {
  hnet::v1::TargetSpec spec;
  at::Tensor weights;               // [N, layout.weight_count()] float32 CPU, FlattenWeights order
  std::string description;          // how it was made, e.g. "deep ensemble: 20 networks,
                                    // 8 epochs"
  hnet::v1::TrainingConfig config;  // what produced it (optional)
};

// Writes atomically with the same verified container as checkpoints (header + CRC). The ensemble is
// validated first (valid spec, weights [N >= 1, weight_count], floating point, finite; any
// device/dtype is stored as float32). Errors name the path.
absl::Status SaveWeightEnsemble(const std::string& path, const WeightEnsemble& ensemble);

// Reads and validates (spec valid, weights [N >= 1, weight_count] float32, all finite). NotFound
// if missing; InvalidArgument for a hypernetwork checkpoint; DataLoss for a truncated, corrupt or
// inconsistent file or weights holding NaN or infinity; FailedPrecondition for another format
// version. Errors name the path.
absl::StatusOr<WeightEnsemble> LoadWeightEnsemble(const std::string& path);

}  // namespace hnet::core

#endif  // HNET_CORE_WEIGHT_ENSEMBLE_H_
