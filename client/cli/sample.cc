// `hnet sample`: generated weights to .npy / .npz / .pt files.
#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "client/cli/inputs.h"
#include "client/cli/outputs.h"
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
    const std::string message =
        absl::StrCat("--out_dir: cannot create '", dir, "': ", error.message());
    switch (error.value()) {
      case EACCES:
      case EPERM:
        return absl::PermissionDeniedError(message);
      case EEXIST:
      case ENOTDIR:
        return absl::InvalidArgumentError(message);
      default:
        return absl::UnknownError(message);
    }
  }
  for (const auto& [name, tensor] : tensors) {
    const std::string path = (std::filesystem::path(dir) / (FileStem(name) + ".npy")).string();
    if (absl::Status s = client::WriteNpy(path, tensor); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Networks streamed one by one (StreamWeights), stacked into the SampleWeights result layout:
// layer l [n, F_l, S_l], z [n, z_dim] when requested.
absl::StatusOr<client::SampleResult> StreamAndStack(const client::Client& client,
                                                    const std::string& model,
                                                    const client::SampleOptions& options) {
  client::SampleResult result;
  int64_t n = 0;
  const int64_t expected = options.noise.z.has_value() ? options.noise.z->shape[0] : options.n;
  auto stack = [&n, expected](const client::Tensor& part, client::Tensor* whole) {
    if (n == 0) {
      whole->dtype = part.dtype;
      whole->shape = part.shape;
      whole->shape.insert(whole->shape.begin(), 0);
      whole->bytes.reserve(part.bytes.size() * static_cast<size_t>(expected));
    } else if (part.dtype != whole->dtype ||
               !std::equal(part.shape.begin(), part.shape.end(), whole->shape.begin() + 1,
                           whole->shape.end())) {
      return absl::InternalError("malformed response: networks of differing shapes");
    }
    whole->bytes += part.bytes;
    ++whole->shape[0];
    return absl::OkStatus();
  };
  absl::Status s = client.StreamWeights(model, options, [&](client::GeneratedNetwork network) {
    if (n == 0) {
      result.model = network.model;
      result.layers.resize(network.layers.size());
      for (size_t l = 0; l < network.layers.size(); ++l) {
        result.layers[l].name = network.layers[l].name;
      }
    }
    if (network.layers.size() != result.layers.size()) {
      return absl::InternalError("malformed response: networks of differing layer counts");
    }
    for (size_t l = 0; l < network.layers.size(); ++l) {
      if (absl::Status s = stack(network.layers[l].weights, &result.layers[l].weights); !s.ok()) {
        return s;
      }
    }
    if (options.return_z) {
      if (absl::Status s = stack(network.z, &result.z); !s.ok()) return s;
    }
    ++n;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return result;
}

}  // namespace

absl::Status CheckSampleArgs(const SampleArgs& args) {
  if (absl::Status s = CheckModelVersion(args.model_version); !s.ok()) return s;
  if (args.out_dir.empty() && args.npz.empty() && args.pt.empty()) {
    return absl::InvalidArgumentError("give --out_dir, --npz or --pt: where to write the weights");
  }
  if (args.n.has_value() && *args.n < 1) {
    return absl::InvalidArgumentError(absl::StrCat("-n: must be >= 1, got ", *args.n));
  }
  if (!args.z_file.empty() && args.seed.has_value()) {
    return absl::InvalidArgumentError("--seed: give --seed or --z, not both");
  }
  if (!args.z_file.empty() && args.n.has_value()) {
    return absl::InvalidArgumentError("-n: give -n or --z, not both (z's rows are the networks)");
  }
  return absl::OkStatus();
}

absl::Status CheckSampleOutputs(const SampleArgs& args) {
  if (!args.out_dir.empty()) {
    if (absl::Status s = CheckOutputDir("--out_dir", args.out_dir); !s.ok()) return s;
  }
  if (!args.npz.empty()) {
    if (absl::Status s = CheckOutputFile("--npz", args.npz); !s.ok()) return s;
  }
  if (!args.pt.empty()) {
    if (absl::Status s = CheckOutputFile("--pt", args.pt); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status RunSample(const client::Client& client, const std::string& model,
                       const SampleArgs& args, std::ostream& out) {
  if (absl::Status s = CheckSampleArgs(args); !s.ok()) return s;
  // Everything local first: a bad output path or z file fails before the server is asked.
  if (absl::Status s = CheckSampleOutputs(args); !s.ok()) return s;
  client::SampleOptions options;
  options.version = args.model_version;
  options.n = args.n.value_or(1);
  if (!args.z_file.empty()) {
    absl::StatusOr<client::Tensor> z = LoadZ(args.z_file);
    if (!z.ok()) return z.status();
    options.noise = client::Noise::FromZ(*std::move(z));
  } else {
    options.noise = client::Noise::FromSeed(args.seed.value_or(0));
  }
  options.gauge_fixed = args.gauge_fixed || args.permutation_gauge;
  options.permutation_gauge = args.permutation_gauge;
  options.return_z = args.return_z;
  absl::StatusOr<client::ModelInfo> info = client.GetModelInfo(model, options.version);
  if (!info.ok()) return info.status();
  if (options.noise.z.has_value() && options.noise.z->shape[1] != info->z_dim) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--z: %s holds vectors of %d values; model %s takes z_dim %d: give shape [n, %d]",
        args.z_file, options.noise.z->shape[1], model, info->z_dim, info->z_dim));
  }
  // Past the message size limit the networks come one per message instead; so they do when
  // the server refuses that many in one message (its --max_networks).
  const int64_t n = options.noise.z.has_value() ? options.noise.z->shape[0] : options.n;
  const double payload_bytes =
      static_cast<double>(n) * (info->weight_count + (options.return_z ? info->z_dim : 0)) * 4;
  bool stream = payload_bytes > 0.9 * client.options().max_message_bytes;
  absl::StatusOr<client::SampleResult> result;
  if (!stream) {
    result = client.SampleWeights(model, options);
    // The server's refusals of n or of the message size say "use StreamWeights"; a full
    // queue ("server busy") is not a reason to stream.
    stream = absl::IsResourceExhausted(result.status()) &&
             absl::StrContains(result.status().message(), "StreamWeights");
  }
  if (stream) {
    result = StreamAndStack(client, model, options);
  }
  if (!result.ok()) return result.status();
  if (stream) out << "streamed " << n << " networks (one message each)\n";

  out << absl::StrFormat("model %s version %d (content %s)\n", result->model.name,
                         result->model.version, result->model.content_hash);
  // The result's tensors move into the files' list: no copy of the weights.
  client::NamedTensors tensors;
  for (client::Layer& layer : result->layers) {
    out << absl::StrFormat("%-24s [%s] %s\n", layer.name, absl::StrJoin(layer.weights.shape, ", "),
                           client::DTypeName(layer.weights.dtype));
    tensors.emplace_back(std::move(layer.name), std::move(layer.weights));
  }
  if (!client::IsUnset(result->z)) tensors.emplace_back("z", std::move(result->z));
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
