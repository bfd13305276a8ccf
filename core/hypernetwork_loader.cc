#include "core/hypernetwork_loader.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "core/checkpoint.h"
#include "core/torch_status.h"

namespace hnet::core {
namespace {

// Elements of the stored parameters (not buffers) as their shapes declare them; -1 when a
// shape is negative or the total overflows.
int64_t StoredParameterCount(const hnet::v1::Checkpoint& checkpoint) {
  int64_t total = 0;
  for (const hnet::v1::NamedTensor& named : checkpoint.parameters()) {
    int64_t numel = 1;
    for (int64_t dim : named.tensor().shape()) {
      if (dim < 0 || __builtin_mul_overflow(numel, dim, &numel)) return -1;
    }
    if (__builtin_add_overflow(total, numel, &total)) return -1;
  }
  return total;
}

}  // namespace

absl::Status CheckHyperNetworkConfig(const hnet::v1::Checkpoint& checkpoint,
                                     const TargetLayout& layout, const std::string& path) {
  const hnet::v1::HyperNetConfig& config = checkpoint.config().hypernet();
  const int64_t expected = HyperNetworkParameterCount(layout, config);
  if (expected < 0) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint ", path, ": its hypernet config cannot be built (z_dim ", config.z_dim(),
        ", code_size ", config.code_size(), ", ", config.generators_size(), " generators for ",
        layout.num_layers(), " target layers, or a non-positive width)"));
  }
  const int64_t stored = StoredParameterCount(checkpoint);
  if (stored != expected) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, ": its hypernet config has ",
                                            expected, " parameters but the file stores ", stored));
  }
  return absl::OkStatus();
}

absl::StatusOr<HyperNetwork> LoadHyperNetwork(const hnet::v1::Checkpoint& checkpoint,
                                              const TargetLayout& layout, const c10::Device& device,
                                              const std::string& path) {
  if (absl::Status s = CheckHyperNetworkConfig(checkpoint, layout, path); !s.ok()) return s;
  const hnet::v1::HyperNetConfig& config = checkpoint.config().hypernet();
  HyperNetwork network{nullptr};
  absl::Status built = TorchCall(absl::StrCat("checkpoint ", path), [&]() -> absl::Status {
    HyperNetwork candidate(layout, config);
    if (absl::Status s = LoadModule(checkpoint, candidate.get()); !s.ok()) {
      // The config was checked against the stored parameter count: a tensor that still does
      // not fit (shape, dtype, a missing or extra buffer) means a corrupt file.
      const absl::StatusCode code =
          absl::IsFailedPrecondition(s) ? absl::StatusCode::kDataLoss : s.code();
      return absl::Status(code, absl::StrCat("checkpoint ", path, ": ", s.message()));
    }
    candidate->eval();
    candidate->to(device);
    network = candidate;
    return absl::OkStatus();
  });
  if (!built.ok()) return built;
  return network;
}

}  // namespace hnet::core
