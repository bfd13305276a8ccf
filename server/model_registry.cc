#include "server/model_registry.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/checkpoint.h"
#include "core/hypernetwork.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/target_forward.h"
#include "core/torch_status.h"
#include "server/status_util.h"

namespace hnet::server {
namespace {

namespace fs = std::filesystem;

// The payload CRC-32 stored in the file header (bytes 12..15, see core/checkpoint.h), which
// ReadCheckpoint has just verified against the payload.
absl::StatusOr<std::string> HeaderCrc(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char header[16];
  if (!in.read(header, sizeof(header))) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, ": cannot read its header"));
  }
  uint32_t crc;
  std::memcpy(&crc, header + 12, 4);
  return absl::StrFormat("%08x", crc);
}

hnet::v1::ModelInfo MakeInfo(const LoadedModel& model, const hnet::v1::Checkpoint& ckpt) {
  hnet::v1::ModelInfo info;
  info.set_name(model.name);
  info.set_version(model.version);
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

absl::StatusOr<c10::Device> ParseDevice(const std::string& flag) {
  if (flag == "auto") {
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(flag);
  } catch (const c10::Error&) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device '", flag, "' is not auto, cpu, cuda or cuda:N"));
  }
  if (device.is_cuda()) {
    if (!torch::cuda::is_available()) {
      return absl::FailedPreconditionError(
          "--device cuda: this LibTorch build has no CUDA or no GPU is visible");
    }
    if (!device.has_index()) device.set_index(0);
    if (device.index() >= static_cast<int>(torch::cuda::device_count())) {
      return absl::InvalidArgumentError(
          absl::StrCat("--device ", flag, ": only ", torch::cuda::device_count(), " GPUs"));
    }
  } else if (!device.is_cpu()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device '", flag, "' is not auto, cpu, cuda or cuda:N"));
  }
  return device;
}

absl::Status ValidateModelName(absl::string_view name) {
  if (name.empty()) return FieldError("model", "required");
  const bool ok = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
  if (!ok) {
    return FieldError(
        "model", absl::StrCat("'", name.substr(0, 100), "' is not a model name ([A-Za-z0-9._-]+)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const LoadedModel>> LoadModel(const std::string& path,
                                                             const std::string& name,
                                                             const RegistryOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto ckpt = core::ReadCheckpoint(path);
  if (!ckpt.ok()) return ckpt.status();
  if (ckpt->config().has_toy()) {
    return absl::UnimplementedError(absl::StrCat(
        "checkpoint ", path, " is a toy-problem model; it generates no networks to serve"));
  }
  auto layout = core::TargetLayout::Create(ckpt->config().target());
  if (!layout.ok()) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, ": ", layout.status().message()));
  }
  auto version = HeaderCrc(path);
  if (!version.ok()) return version.status();

  auto model = std::make_shared<LoadedModel>();
  model->name = name;
  model->path = path;
  model->version = *version;
  model->layout = *layout;
  model->device = options.device;
  model->dataset = ckpt->config().data().dataset();
  for (int64_t l = 0; l < layout->num_layers(); ++l) {
    model->layer_names.push_back(absl::StrCat("layer", l, ".", layout->layers()[l].name()));
  }
  absl::Status built = core::TorchCall(absl::StrCat("checkpoint ", path), [&]() -> absl::Status {
    core::HyperNetwork network(*layout, ckpt->config().hypernet());
    if (absl::Status s = core::LoadModule(*ckpt, network.get()); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("checkpoint ", path, ": ", s.message()));
    }
    network->eval();
    network->to(options.device);
    model->network = network.ptr();
    return absl::OkStatus();
  });
  if (!built.ok()) return built;
  model->info = MakeInfo(*model, *ckpt);
  if (options.warm_up) {
    if (absl::Status s = WarmUp(*model); !s.ok()) return s;
  }
  model->load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::shared_ptr<const LoadedModel>(std::move(model));
}

absl::StatusOr<std::unique_ptr<ModelRegistry>> ModelRegistry::LoadDirectory(
    const std::string& dir, const RegistryOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("--models ", dir, " is not a directory"));
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".hnet" && entry.is_regular_file()) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::shared_ptr<const LoadedModel>> models;
  for (const fs::path& file : files) {
    const std::string name = file.stem().string();
    if (!ValidateModelName(name).ok()) {
      log::Warn("skipping {}: '{}' is not a model name ([A-Za-z0-9._-]+)", file.string(), name);
      continue;
    }
    auto model = LoadModel(file.string(), name, options);
    if (absl::IsUnimplemented(model.status())) {
      log::Warn("skipping {}", std::string(model.status().message()));
      continue;
    }
    if (!model.ok()) return model.status();
    log::Info("loaded model {} (version {}, step {}, {} weights per network) on {}", name,
              (*model)->version, (*model)->info.step(), (*model)->layout.weight_count(),
              (*model)->device.str());
    models.push_back(*std::move(model));
  }
  if (models.empty()) {
    return absl::NotFoundError(absl::StrCat("--models ", dir, ": no servable *.hnet checkpoints"));
  }
  return std::make_unique<ModelRegistry>(std::move(models));
}

ModelRegistry::ModelRegistry(std::vector<std::shared_ptr<const LoadedModel>> models) {
  for (auto& model : models) models_.emplace(model->name, std::move(model));
}

absl::StatusOr<std::shared_ptr<const LoadedModel>> ModelRegistry::Find(
    absl::string_view name) const {
  if (absl::Status s = ValidateModelName(name); !s.ok()) return s;
  auto it = models_.find(name);
  if (it == models_.end()) {
    return absl::NotFoundError(absl::StrCat("model '", name, "' is not loaded"));
  }
  return it->second;
}

std::vector<std::shared_ptr<const LoadedModel>> ModelRegistry::models() const {
  std::vector<std::shared_ptr<const LoadedModel>> out;
  for (const auto& [name, model] : models_) out.push_back(model);
  return out;
}

}  // namespace hnet::server
