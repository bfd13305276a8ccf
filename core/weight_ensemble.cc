#include "core/weight_ensemble.h"

#include <torch/torch.h>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "core/checkpoint.h"
#include "core/container.h"
#include "core/target_spec.h"
#include "core/torch_status.h"

namespace hnet::core {
namespace {

// Why `weights` cannot hold networks of `spec`, or OK.
absl::Status CheckEnsemble(const hnet::v1::TargetSpec& spec, const at::Tensor& weights) {
  auto layout = TargetLayout::Create(spec);
  if (!layout.ok()) return absl::InvalidArgumentError(layout.status().message());
  if (!weights.defined()) return absl::InvalidArgumentError("weights are missing");
  if (weights.dim() != 2 || weights.size(0) < 1 || weights.size(1) != layout->weight_count()) {
    return absl::InvalidArgumentError(absl::StrCat("weights have shape ", c10::str(weights.sizes()),
                                                   ", spec '", spec.name(), "' needs [N >= 1, ",
                                                   layout->weight_count(), "]"));
  }
  if (!weights.is_floating_point()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weights have dtype ", c10::toString(weights.scalar_type()), ", expected floating point"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SaveWeightEnsemble(const std::string& path, const WeightEnsemble& ensemble) {
  auto prefix = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("weight ensemble ", path, ": ", s.message()));
  };
  if (auto s = CheckEnsemble(ensemble.spec, ensemble.weights); !s.ok()) return prefix(s);
  hnet::v1::WeightEnsembleFile file;
  auto built = TorchCall("encoding weights", [&]() -> absl::Status {
    const at::Tensor weights = ensemble.weights.detach().to(torch::kCPU, torch::kFloat32);
    if (!torch::isfinite(weights).all().item<bool>()) {
      return absl::InvalidArgumentError("weights contain NaN or infinity");
    }
    *file.mutable_weights() = TensorToProto(weights);
    return absl::OkStatus();
  });
  if (!built.ok()) return prefix(built);
  file.set_format_version(kWeightEnsembleFormatVersion);
  *file.mutable_spec() = ensemble.spec;
  file.set_description(ensemble.description);
  *file.mutable_config() = ensemble.config;
  file.set_created_by("hnet 0.1.0");
  file.set_created_unix_seconds(static_cast<int64_t>(std::time(nullptr)));
  std::string payload;
  if (!file.SerializeToString(&payload)) {
    return absl::InternalError(absl::StrCat("cannot serialize weight ensemble for ", path));
  }
  return WriteContainerFile(path, kWeightEnsembleContainer, kWeightEnsembleFormatVersion, payload);
}

absl::StatusOr<WeightEnsemble> LoadWeightEnsemble(const std::string& path) {
  auto payload = ReadContainerFile(path, kWeightEnsembleContainer, kWeightEnsembleFormatVersion);
  if (!payload.ok()) return payload.status();
  auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("weight ensemble ", path, ": ", why));
  };
  hnet::v1::WeightEnsembleFile file;
  if (!file.ParseFromString(*payload)) return corrupt("payload does not parse");
  if (file.format_version() != kWeightEnsembleFormatVersion) {
    return corrupt("payload format version disagrees with the header");
  }
  auto weights = TensorFromProto(file.weights());
  if (!weights.ok()) return corrupt(weights.status().message());
  if (weights->scalar_type() != at::kFloat) {
    return corrupt(absl::StrCat("weights have dtype ", c10::toString(weights->scalar_type()),
                                ", expected float32"));
  }
  if (auto s = CheckEnsemble(file.spec(), *weights); !s.ok()) return corrupt(s.message());
  if (auto s = CheckFinite(*weights); !s.ok())
    return corrupt(absl::StrCat("weights ", s.message()));
  WeightEnsemble ensemble;
  ensemble.spec = file.spec();
  ensemble.weights = *weights;
  ensemble.description = file.description();
  ensemble.config = file.config();
  return ensemble;
}

}  // namespace hnet::core
