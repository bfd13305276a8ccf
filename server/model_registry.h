// The models a server serves: every checkpoint (*.hnet) of one directory, loaded once at
// start-up, in eval mode on the serving device, warmed up. Immutable after loading, so
// lookups and forwards need no locks.
#ifndef HNET_SERVER_MODEL_REGISTRY_H_
#define HNET_SERVER_MODEL_REGISTRY_H_

#include <c10/core/Device.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/target_spec.h"
#include "hnet/v1/service.pb.h"

namespace hnet::core {
class HyperNetworkImpl;
}

namespace hnet::server {

// One loaded checkpoint. The network is in eval mode (batch norm uses its running
// statistics), so forwards are deterministic per z and safe from several threads.
struct LoadedModel {
  std::string name;  // File stem, matches [A-Za-z0-9._-]+.
  std::string path;
  std::string version;  // Hex CRC-32 of the checkpoint payload (from the verified header).
  // Wall time LoadModel took: read, verify, build, warm up.
  double load_seconds = 0;
  core::TargetLayout layout;
  std::shared_ptr<core::HyperNetworkImpl> network;
  c10::Device device{c10::kCPU};
  hnet::v1::DataConfig::Dataset dataset = hnet::v1::DataConfig::MNIST;
  std::vector<std::string> layer_names;  // "layer0.conv5x5x32", ... (wire names).
  hnet::v1::ModelInfo info;
};

struct RegistryOptions {
  c10::Device device{c10::kCPU};
  bool warm_up = true;  // One small forward per model so the first request is not slow.
};

// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N"; the error names the flag.
absl::StatusOr<c10::Device> ParseDevice(const std::string& flag);

// OK when `name` matches [A-Za-z0-9._-]+; otherwise INVALID_ARGUMENT naming field "model".
absl::Status ValidateModelName(absl::string_view name);

// Reads, verifies and loads one checkpoint as model `name`. UNIMPLEMENTED for toy
// checkpoints (they generate points, not networks); errors name the file.
absl::StatusOr<std::shared_ptr<const LoadedModel>> LoadModel(const std::string& path,
                                                             const std::string& name,
                                                             const RegistryOptions& options);

class ModelRegistry {
 public:
  // Loads every *.hnet file of `dir` (not recursive), named by file stem. Files that cannot
  // be served (toy checkpoints, names outside [A-Za-z0-9._-]+) are skipped with a warning; a
  // corrupt checkpoint or an empty result is an error naming the file or directory.
  static absl::StatusOr<std::unique_ptr<ModelRegistry>> LoadDirectory(
      const std::string& dir, const RegistryOptions& options);

  // A registry over already loaded models (tests, embedding).
  explicit ModelRegistry(std::vector<std::shared_ptr<const LoadedModel>> models);

  // The model called `name`: INVALID_ARGUMENT for a malformed name, NOT_FOUND naming it when
  // no loaded model has that name. Never touches the file system.
  absl::StatusOr<std::shared_ptr<const LoadedModel>> Find(absl::string_view name) const;

  // All models, sorted by name.
  std::vector<std::shared_ptr<const LoadedModel>> models() const;

 private:
  std::map<std::string, std::shared_ptr<const LoadedModel>, std::less<>> models_;
};

}  // namespace hnet::server

#endif  // HNET_SERVER_MODEL_REGISTRY_H_
