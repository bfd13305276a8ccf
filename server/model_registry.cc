#include "server/model_registry.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/checkpoint.h"
#include "core/hypernetwork.h"
#include "core/hypernetwork_loader.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/target_forward.h"
#include "core/torch_status.h"
#include "server/model_directory.h"
#include "server/status_util.h"

namespace hnet::server {
namespace {

std::atomic<uint64_t> g_next_load_id{1};

hnet::v1::ModelInfo MakeInfo(const LoadedModel& model, const hnet::v1::Checkpoint& ckpt) {
  hnet::v1::ModelInfo info;
  info.set_name(model.name);
  info.set_version(model.content_hash);
  info.set_content_hash(model.content_hash);
  info.set_version_number(model.version);
  info.set_path(model.path);
  *info.mutable_target() = model.layout.spec();
  for (size_t l = 0; l < model.layout.layers().size(); ++l) {
    const core::LayerShape& layer = model.layout.layers()[l];
    hnet::v1::LayerInfo* out = info.add_layers();
    out->set_name(model.layer_names[l]);
    out->set_kind(layer.kind == core::LayerShape::Kind::kConv ? "conv" : "dense");
    out->add_shape(layer.filters);
    out->add_shape(layer.filter_size());
    out->set_weight_count(layer.weight_count());
  }
  info.set_weight_count(model.layout.weight_count());
  info.set_z_dim(ckpt.config().hypernet().z_dim());
  info.set_z_distribution(ckpt.config().hypernet().z_distribution());
  info.set_lambda(ckpt.lambda());
  info.set_step(ckpt.step());
  *info.mutable_validation() = ckpt.last_validation();
  info.set_device(model.device.str());
  info.set_parameter_count(core::CountParameters(*model.network));
  return info;
}

absl::Status WarmUp(const LoadedModel& model) {
  return core::TorchCall(absl::StrCat("warming up model ", model.name), [&] {
    torch::NoGradGuard no_grad;
    at::Tensor z = model.network->SampleZ(2, core::MakeGenerator(0)).to(model.device);
    core::WeightBatch weights = model.network->forward(z);
    const core::TargetLayout& layout = model.layout;
    at::Tensor x =
        torch::zeros({1, layout.input_channels(), layout.input_height(), layout.input_width()},
                     torch::TensorOptions().device(model.device));
    core::SharedForward(layout, weights, x).cpu();
  });
}

}  // namespace

absl::Status ValidateModelName(absl::string_view name, absl::string_view field) {
  if (name.empty()) return FieldError(field, "required");
  if (name.size() > kMaxModelNameLength) {
    return FieldError(field, absl::StrCat("'", name.substr(0, 100), "...' is longer than ",
                                          kMaxModelNameLength, " characters"));
  }
  const bool ok = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
  if (!ok) {
    return FieldError(
        field, absl::StrCat("'", name.substr(0, 100), "' is not a model name ([A-Za-z0-9._-]+)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelPtr> LoadModel(const ModelSpec& spec, const RegistryOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  uint32_t crc = 0;
  auto ckpt = core::ReadCheckpoint(spec.path, &crc);
  if (!ckpt.ok()) return ckpt.status();
  auto built = BuildModel(*ckpt, crc, spec, options);
  if (!built.ok()) return built.status();
  auto model = std::make_shared<LoadedModel>(**built);  // Shares the network; small copy.
  model->load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return ModelPtr(std::move(model));
}

absl::StatusOr<ModelPtr> BuildModel(const hnet::v1::Checkpoint& ckpt, uint32_t payload_crc,
                                    const ModelSpec& spec, const RegistryOptions& options) {
  const std::string& path = spec.path;
  if (ckpt.config().has_toy()) {
    return absl::UnimplementedError(absl::StrCat(
        "checkpoint ", path, " is a toy-problem model; it generates no networks to serve"));
  }
  auto layout = core::TargetLayout::Create(ckpt.config().target());
  if (!layout.ok()) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, ": ", layout.status().message()));
  }
  auto model = std::make_shared<LoadedModel>();
  model->name = spec.name;
  model->version = spec.version;
  model->path = path;
  model->content_hash = absl::StrFormat("%08x", payload_crc);
  model->load_id = g_next_load_id.fetch_add(1);
  model->source = spec.source;
  model->layout = *layout;
  model->device = options.device;
  model->dataset = ckpt.config().data().dataset();
  for (int64_t l = 0; l < layout->num_layers(); ++l) {
    model->layer_names.push_back(absl::StrCat("layer", l, ".", layout->layers()[l].name()));
  }
  auto network = core::LoadHyperNetwork(ckpt, *layout, options.device, path);
  if (!network.ok()) return network.status();
  model->network = network->ptr();
  model->info = MakeInfo(*model, ckpt);
  if (options.warm_up) {
    if (absl::Status s = WarmUp(*model); !s.ok()) return s;
  }
  return ModelPtr(std::move(model));
}

absl::StatusOr<ModelPtr> LoadModel(const std::string& path, const std::string& name,
                                   const RegistryOptions& options) {
  return LoadModel(ModelSpec{path, name, 1, ModelSource::kDirectory}, options);
}

absl::StatusOr<ModelPage> PageOfModels(const std::vector<ModelPtr>& models, int32_t page_size,
                                       absl::string_view page_token) {
  if (page_size < 0) return FieldError("page_size", absl::StrCat("must be >= 0, got ", page_size));
  // A token names the first model of its page as "<name>@<version>" ('@' is not in names):
  // the page starts there, or where that model would be now that it is gone.
  size_t begin = 0;
  if (!page_token.empty()) {
    const size_t at = page_token.rfind('@');
    int64_t version = 0;
    if (at == absl::string_view::npos || !ValidateModelName(page_token.substr(0, at)).ok() ||
        !absl::SimpleAtoi(page_token.substr(at + 1), &version) || version < 1) {
      return FieldError("page_token", "not a token this server returned");
    }
    const absl::string_view name = page_token.substr(0, at);
    while (begin < models.size() &&
           (models[begin]->name < name ||
            (models[begin]->name == name && models[begin]->version > version))) {
      ++begin;
    }
  }
  const size_t end = page_size == 0
                         ? models.size()
                         : std::min(models.size(), begin + static_cast<size_t>(page_size));
  ModelPage page;
  page.models.assign(models.begin() + static_cast<std::ptrdiff_t>(begin),
                     models.begin() + static_cast<std::ptrdiff_t>(end));
  if (end < models.size()) {
    page.next_page_token = absl::StrCat(models[end]->name, "@", models[end]->version);
  }
  return page;
}

std::string ModelKey(const LoadedModel& model) {
  return absl::StrCat(model.name, "|v", model.version, "|", model.content_hash, "|#", model.load_id,
                      "|");
}

hnet::v1::ModelInfo InfoOf(const LoadedModel& model, bool latest) {
  hnet::v1::ModelInfo info = model.info;
  info.set_latest(latest);
  return info;
}

hnet::v1::ModelVersion VersionOf(const LoadedModel& model) {
  hnet::v1::ModelVersion version;
  version.set_name(model.name);
  version.set_version(model.version);
  version.set_content_hash(model.content_hash);
  return version;
}

absl::StatusOr<std::unique_ptr<ModelRegistry>> ModelRegistry::LoadDirectory(
    const std::string& dir, const RegistryOptions& options,
    const std::function<bool()>& stop_requested) {
  auto scan = ScanModelDirectory(dir);
  if (!scan.ok()) return scan.status();
  for (const std::string& reason : scan->skipped) log::Warn("{}", reason);
  auto registry = std::make_unique<ModelRegistry>(std::vector<ModelPtr>{}, options);
  std::map<std::string, int> kept;  // name -> versions loaded so far.
  absl::Status first_failure;
  std::vector<std::string> failures;
  // Files come by name, highest version first: a version that fails leaves its place to the
  // next one down.
  for (const CheckpointFile& file : scan->files) {
    if (stop_requested && stop_requested()) {
      return absl::CancelledError(absl::StrCat("--models ", dir, ": loading stopped by a signal"));
    }
    if (kept[file.name] >= options.keep_versions) continue;
    auto model = LoadModel(ModelSpec{file.path, file.name, file.version}, options);
    if (!model.ok()) {
      // One bad file must not keep every other model from serving; the watcher retries it.
      log::Warn("skipping model {} version {}: {}", file.name, file.version,
                std::string(model.status().message()));
      if (!absl::IsUnimplemented(model.status())) {
        if (first_failure.ok()) first_failure = model.status();
        failures.emplace_back(model.status().message());
      }
      continue;
    }
    log::Info("loaded model {} version {} (content {}, step {}, {} weights per network) on {}",
              file.name, file.version, (*model)->content_hash, (*model)->info.step(),
              (*model)->layout.weight_count(), (*model)->device.str());
    registry->Put(*std::move(model));
    ++kept[file.name];
  }
  if (registry->size() == 0) {
    const std::string message = absl::StrCat(
        "--models ", dir, ": no servable *.hnet checkpoints",
        failures.empty() ? "" : absl::StrCat(" (", absl::StrJoin(failures, "; "), ")"));
    return absl::Status(first_failure.ok() ? absl::StatusCode::kNotFound : first_failure.code(),
                        message);
  }
  return registry;
}

ModelRegistry::ModelRegistry(std::vector<ModelPtr> models, RegistryOptions options)
    : options_(std::move(options)) {
  for (ModelPtr& model : models) Put(std::move(model));
}

absl::StatusOr<ModelPtr> ModelRegistry::Find(absl::string_view name, int64_t version) const {
  if (absl::Status s = ValidateModelName(name); !s.ok()) return s;
  if (version < 0) return FieldError("version", absl::StrCat("must be >= 0, got ", version));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end() || it->second.empty()) {
    return absl::NotFoundError(absl::StrCat("model '", name, "' is not loaded"));
  }
  if (version == 0) return it->second.begin()->second;
  auto found = it->second.find(version);
  if (found == it->second.end()) {
    std::vector<int64_t> loaded;
    for (const auto& entry : it->second) loaded.push_back(entry.first);
    return absl::NotFoundError(absl::StrCat("model '", name, "' version ", version,
                                            " is not loaded (loaded: ", absl::StrJoin(loaded, ", "),
                                            ")"));
  }
  return found->second;
}

std::vector<ModelPtr> ModelRegistry::models() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ModelPtr> out;
  for (const auto& [name, versions] : models_) {
    for (const auto& [version, model] : versions) out.push_back(model);
  }
  return out;
}

std::vector<ModelPtr> ModelRegistry::Versions(absl::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ModelPtr> out;
  auto it = models_.find(name);
  if (it == models_.end()) return out;
  for (const auto& [version, model] : it->second) out.push_back(model);
  return out;
}

size_t ModelRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [name, versions] : models_) n += versions.size();
  return n;
}

std::vector<ModelPtr> ModelRegistry::Put(ModelPtr model, const std::vector<ModelPtr>& retiring) {
  std::vector<ModelPtr> removed;
  std::lock_guard<std::mutex> lock(mu_);
  auto found = models_.find(model->name);
  if (found == models_.end()) found = models_.emplace(model->name, VersionMap()).first;
  VersionMap& versions = found->second;
  for (const ModelPtr& old : retiring) {
    if (old == nullptr || old->name != model->name) continue;
    auto it = versions.find(old->version);
    if (it == versions.end() || it->second != old) continue;
    removed.push_back(old);
    versions.erase(it);
  }
  ModelPtr& slot = versions[model->version];
  if (slot != nullptr) removed.push_back(slot);
  slot = std::move(model);
  const size_t keep = static_cast<size_t>(std::max(1, options_.keep_versions));
  while (versions.size() > keep) {
    auto lowest = std::prev(versions.end());
    removed.push_back(std::move(lowest->second));
    versions.erase(lowest);
  }
  return removed;
}

ModelPtr ModelRegistry::Remove(absl::string_view name, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return nullptr;
  auto found = it->second.find(version);
  if (found == it->second.end()) return nullptr;
  ModelPtr model = std::move(found->second);
  it->second.erase(found);
  if (it->second.empty()) models_.erase(it);
  return model;
}

}  // namespace hnet::server
