// The models a server serves, by name and integer version. A live registry: versions are
// put and removed while requests run (model_watcher.h is the one writer). Lookups copy a
// shared_ptr under a short mutex, so a request keeps the exact version it resolved alive and
// usable after it is swapped out or unloaded; a LoadedModel never changes once loaded.
#ifndef HNET_SERVER_MODEL_REGISTRY_H_
#define HNET_SERVER_MODEL_REGISTRY_H_

#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/target_spec.h"
#include "hnet/v1/checkpoint.pb.h"
#include "hnet/v1/service.pb.h"

namespace hnet::core {
class HyperNetworkImpl;
}

namespace hnet::server {

// Who put a version into the registry: the --models directory (the watcher owns it: a
// deleted or replaced file unloads or reloads it) or ModelAdmin.LoadModel (stays until
// unloaded on request or superseded by newer versions).
enum class ModelSource { kDirectory, kAdmin };

// One loaded checkpoint. The network is in eval mode (batch norm uses its running
// statistics), so forwards are deterministic per z and safe from several threads.
struct LoadedModel {
  std::string name;     // Matches [A-Za-z0-9._-]+.
  int64_t version = 1;  // >= 1: <name>/<version>.hnet, 1 for <name>.hnet, or the admin's.
  std::string path;
  std::string content_hash;  // Hex CRC-32 of the checkpoint payload (verified on reading).
  uint64_t load_id = 0;      // Unique per load in this process (a reload gets a new one).
  ModelSource source = ModelSource::kDirectory;
  // Wall time the load took: read, verify, build, warm up.
  double load_seconds = 0;
  core::TargetLayout layout;
  std::shared_ptr<core::HyperNetworkImpl> network;
  c10::Device device{c10::kCPU};
  hnet::v1::DataConfig::Dataset dataset = hnet::v1::DataConfig::MNIST;
  std::vector<std::string> layer_names;  // "layer0.conv5x5x32", ... (wire names).
  hnet::v1::ModelInfo info;              // All but `latest`, which depends on the registry.
};

using ModelPtr = std::shared_ptr<const LoadedModel>;

struct RegistryOptions {
  c10::Device device{c10::kCPU};
  bool warm_up = true;    // One small forward per model so the first request is not slow.
  int keep_versions = 1;  // --keep_versions: versions per name loaded at most, the highest.
};

// What a checkpoint is to be loaded as.
struct ModelSpec {
  std::string path;
  std::string name;
  int64_t version = 1;
  ModelSource source = ModelSource::kDirectory;
};

// Longest model name (file names allow 255 bytes, and errors echo the name).
inline constexpr size_t kMaxModelNameLength = 200;

// OK when `name` matches [A-Za-z0-9._-]{1,200}; otherwise INVALID_ARGUMENT naming field
// `field`.
absl::Status ValidateModelName(absl::string_view name, absl::string_view field = "model");

// Reads (once), verifies and loads one checkpoint as spec.name / spec.version on the
// caller's thread, touching no registry. UNIMPLEMENTED for toy checkpoints (they generate
// points, not networks); NOT_FOUND / DATA_LOSS name the file.
absl::StatusOr<ModelPtr> LoadModel(const ModelSpec& spec, const RegistryOptions& options);
// LoadModel after the file was read: builds `checkpoint` (read from spec.path, payload CRC
// `payload_crc`) into a model. The same errors, minus those of reading.
absl::StatusOr<ModelPtr> BuildModel(const hnet::v1::Checkpoint& checkpoint, uint32_t payload_crc,
                                    const ModelSpec& spec, const RegistryOptions& options);
// LoadModel({path, name}): version 1 of a directory model.
absl::StatusOr<ModelPtr> LoadModel(const std::string& path, const std::string& name,
                                   const RegistryOptions& options);

// "name|v3|1a2b3c4d|#17|": identifies one load of one version. Cache keys of generated
// weights start with it, so a reloaded or other version never hits another's entries.
std::string ModelKey(const LoadedModel& model);

// `model`'s ModelInfo with `latest` set.
hnet::v1::ModelInfo InfoOf(const LoadedModel& model, bool latest);

// `model`'s ModelVersion (name, version, content hash) for responses.
hnet::v1::ModelVersion VersionOf(const LoadedModel& model);

// One page of `models` (in ModelRegistry::models() order) for ListModels: at most page_size
// of them (0: all) from the one `page_token` names (empty: the first), and the token of the
// next page (empty after the last). Bad page_size or page_token: INVALID_ARGUMENT naming it.
struct ModelPage {
  std::vector<ModelPtr> models;
  std::string next_page_token;
};
absl::StatusOr<ModelPage> PageOfModels(const std::vector<ModelPtr>& models, int32_t page_size,
                                       absl::string_view page_token);

class ModelRegistry {
 public:
  // Loads the --models directory once (model_directory.h layout): for every name the
  // options.keep_versions highest versions that load. Files that cannot be served (toy,
  // corrupt or unreadable checkpoints, bad names) are skipped with a warning naming them, and
  // the next lower version is tried. Nothing servable: an error naming the directory and each
  // failure (the first failure's code, NOT_FOUND when there was none). `stop_requested`
  // (may be empty) is polled between files: true ends the load with CANCELLED.
  static absl::StatusOr<std::unique_ptr<ModelRegistry>> LoadDirectory(
      const std::string& dir, const RegistryOptions& options,
      const std::function<bool()>& stop_requested = {});

  // A registry over already loaded models (tests, embedding); keep_versions applies.
  explicit ModelRegistry(std::vector<ModelPtr> models = {}, RegistryOptions options = {});

  const RegistryOptions& options() const { return options_; }

  // Version `version` of `name`, or its highest version when `version` is 0.
  // INVALID_ARGUMENT for a malformed name or a negative version; NOT_FOUND naming the name
  // (and version) when not loaded. Never touches the file system. Thread-safe.
  absl::StatusOr<ModelPtr> Find(absl::string_view name, int64_t version = 0) const;

  // Every loaded version, by name, highest version first. Thread-safe.
  std::vector<ModelPtr> models() const;
  // The loaded versions of `name`, highest first (empty when none). Thread-safe.
  std::vector<ModelPtr> Versions(absl::string_view name) const;
  // Loaded versions in all. Thread-safe.
  size_t size() const;

  // In one step: removes each of `retiring` of `model`'s name that is still loaded (the same
  // object; entries of other names are ignored), puts `model` as (name, version), replacing
  // what was there, then unloads versions of the name beyond the keep_versions highest.
  // Returns what left the registry: the removed `retiring`, the replaced version (if any), then
  // the unloaded ones; `model` itself is among them when it is below the kept ones.
  // Thread-safe.
  std::vector<ModelPtr> Put(ModelPtr model, const std::vector<ModelPtr>& retiring = {});

  // Removes (name, version); returns it, or null when it was not loaded. Thread-safe.
  ModelPtr Remove(absl::string_view name, int64_t version);

 private:
  using VersionMap = std::map<int64_t, ModelPtr, std::greater<>>;  // Highest first.
  const RegistryOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, VersionMap, std::less<>> models_;
};

}  // namespace hnet::server

#endif  // HNET_SERVER_MODEL_REGISTRY_H_
