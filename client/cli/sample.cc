// `hnet sample`: generated weights to .npy / .npz / .pt files.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/cli/commands.h"
#include "client/npy.h"
#include "client/pt_writer.h"

namespace hnet::cli {
namespace {

// A layer name as a file name (no path separators).
std::string FileStem(const std::string& name) {
  return absl::StrReplaceAll(name, {{"/", "_"}, {"\\", "_"}});
}

absl::Status WriteDir(const std::string& dir, const client::NamedTensors& tensors) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("--out_dir: cannot create '", dir, "': ", error.message()));
  }
  for (const auto& [name, tensor] : tensors) {
    const std::string path = (std::filesystem::path(dir) / (FileStem(name) + ".npy")).string();
    if (absl::Status s = client::WriteNpy(path, tensor); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunSample(const client::Client& client, const std::string& model,
                       const SampleArgs& args, std::ostream& out) {
  client::SampleOptions options;
  options.version = args.model_version;
  options.n = args.n;
  if (!args.z_file.empty()) {
    if (args.seed.has_value()) {
      return absl::InvalidArgumentError("--seed: give --seed or --z, not both");
    }
    absl::StatusOr<client::Tensor> z = client::ReadNpy(args.z_file);
    if (!z.ok()) return z.status();
    options.noise = client::Noise::FromZ(*std::move(z));
  } else {
    options.noise = client::Noise::FromSeed(args.seed.value_or(0));
  }
  options.gauge_fixed = args.gauge_fixed || args.permutation_gauge;
  options.permutation_gauge = args.permutation_gauge;
  options.return_z = args.return_z;
  absl::StatusOr<client::SampleResult> result = client.SampleWeights(model, options);
  if (!result.ok()) return result.status();

  out << absl::StrFormat("model %s version %d (content %s)\n", result->model.name,
                         result->model.version, result->model.content_hash);
  client::NamedTensors tensors;
  for (const client::Layer& layer : result->layers) {
    out << absl::StrFormat("%-24s [%s] %s\n", layer.name, absl::StrJoin(layer.weights.shape, ", "),
                           client::DTypeName(layer.weights.dtype));
    tensors.emplace_back(layer.name, layer.weights);
  }
  if (!client::IsUnset(result->z)) tensors.emplace_back("z", result->z);
  if (!args.out_dir.empty()) {
    if (absl::Status s = WriteDir(args.out_dir, tensors); !s.ok()) return s;
    out << "wrote " << tensors.size() << " .npy files to " << args.out_dir << "\n";
  }
  if (!args.npz.empty()) {
    if (absl::Status s = client::WriteNpz(args.npz, tensors); !s.ok()) return s;
    out << "wrote " << args.npz << "\n";
  }
  if (!args.pt.empty()) {
    if (absl::Status s = client::WriteTorchSave(args.pt, tensors); !s.ok()) return s;
    out << "wrote " << args.pt << "\n";
  }
  return absl::OkStatus();
}

}  // namespace hnet::cli
