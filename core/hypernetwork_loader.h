// Building a served or evaluated hypernetwork from a checkpoint.
#ifndef HNET_CORE_HYPERNETWORK_LOADER_H_
#define HNET_CORE_HYPERNETWORK_LOADER_H_

#include <c10/core/Device.h>

#include <string>

#include "absl/status/statusor.h"
#include "core/hypernetwork.h"
#include "core/target_spec.h"
#include "hnet/v1/checkpoint.pb.h"

namespace hnet::core {

// The check LoadHyperNetwork makes before allocating: OK when the embedded hypernet config is
// buildable for `layout` and implies exactly the parameters `checkpoint` stores; DataLoss
// naming `path` otherwise. Cheap (no tensors are read).
absl::Status CheckHyperNetworkConfig(const hnet::v1::Checkpoint& checkpoint,
                                     const TargetLayout& layout, const std::string& path);

// Builds the hypernetwork that `checkpoint` (read from `path`, named in errors) describes for
// `layout`, loads its parameters and buffers, and moves it to `device` in eval mode. The
// embedded config is checked against the stored tensors before anything is allocated, so a
// corrupt or hostile config cannot size the model: DataLoss when the config is not buildable
// or implies other parameters than those stored, or when a stored tensor does not fit the
// built model (LoadModule: wrong shape or dtype, missing or unexpected); ResourceExhausted
// when the model does not fit in memory. Thread-compatible.
absl::StatusOr<HyperNetwork> LoadHyperNetwork(const hnet::v1::Checkpoint& checkpoint,
                                              const TargetLayout& layout, const c10::Device& device,
                                              const std::string& path);

}  // namespace hnet::core

#endif  // HNET_CORE_HYPERNETWORK_LOADER_H_
