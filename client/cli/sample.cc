// `hnet sample`: generated weights to .npy / .npz / .pt files.
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "client/cli/inputs.h"
#include "client/cli/outputs.h"
#include "client/cli/spool.h"
#include "client/npy.h"
#include "client/pt_writer.h"
#include "io/file_io.h"

namespace hnet::cli {
namespace {

// A layer name as a file name (no path separators).
std::string FileStem(const std::string& name) {
  return absl::StrReplaceAll(name, {{"/", "_"}, {"\\", "_"}});
}

// Creates `dir` (and its parents) for --out_dir; errors name the flag.
absl::Status MakeOutDir(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (!error) return absl::OkStatus();
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

// The .npy file of tensor `name` in `dir`.
std::string NpyPath(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / (FileStem(name) + ".npy")).string();
}

// Where the streamed networks wait (see spool.h): beside the first output that is written to
// a file system, which has room for the output anyway; else $TMPDIR or /tmp.
std::string SpoolDirectory(const SampleArgs& args) {
  for (const std::string* path : {&args.npz, &args.pt}) {
    if (!path->empty() && !io::IsWrittenInPlace(*path)) return DirectoryOfFile(*path);
  }
  if (!args.out_dir.empty()) return NearestExistingDirectory(args.out_dir);
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

// The error of a call that ran out of time, naming --deadline (it covers the whole call, a
// stream of every network included); other errors unchanged.
absl::Status WithDeadlineHint(const absl::Status& status, const client::Client& client,
                              absl::string_view what) {
  if (!absl::IsDeadlineExceeded(status)) return status;
  return absl::DeadlineExceededError(absl::StrCat(
      "--deadline: ", what, " took longer than ", absl::FormatDuration(client.options().deadline),
      " (", status.message(), "); raise --deadline, which covers the whole call"));
}

// Networks streamed one by one (StreamWeights) into `spool`, in the SampleWeights layout.
absl::Status StreamToSpool(const client::Client& client, const std::string& model,
                           const client::SampleOptions& options, NetworkSpool* spool) {
  absl::Status s = client.StreamWeights(
      model, options, [spool](client::GeneratedNetwork network) { return spool->Add(network); });
  return WithDeadlineHint(
      s, client,
      absl::StrCat("streaming ", spool->expected(), " networks (", spool->count(), " arrived)"));
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
    if (!stream && !result.ok()) {
      return WithDeadlineHint(result.status(), client, absl::StrCat("sampling ", n, " networks"));
    }
  }
  // Either way the files are written from sources: the result's tensors in memory, or the
  // streamed networks read back from disk (memory bounded whatever n; see spool.h).
  client::NamedTensorSources tensors;  // the layers in order, then z when requested
  client::ModelVersion served;
  std::unique_ptr<NetworkSpool> spool;
  if (stream) {
    spool = std::make_unique<NetworkSpool>(SpoolDirectory(args), n, options.return_z);
    if (absl::Status s = StreamToSpool(client, model, options, spool.get()); !s.ok()) return s;
    absl::StatusOr<client::NamedTensorSources> sources = spool->Sources();
    if (!sources.ok()) return sources.status();
    tensors = *std::move(sources);
    served = spool->model();
    out << "streamed " << n << " networks (one message each)\n";
  } else {
    for (const client::Layer& layer : result->layers) {
      tensors.emplace_back(layer.name, client::SourceOf(layer.weights));
    }
    if (options.return_z) tensors.emplace_back("z", client::SourceOf(result->z));
    served = result->model;
  }

  out << absl::StrFormat("model %s version %d (content %s)\n", served.name, served.version,
                         served.content_hash);
  const size_t layers = tensors.size() - (options.return_z ? 1 : 0);
  for (size_t l = 0; l < layers; ++l) {
    const client::TensorSource& tensor = tensors[l].second;
    out << absl::StrFormat("%-24s [%s] %s\n", tensors[l].first, absl::StrJoin(tensor.shape, ", "),
                           client::DTypeName(tensor.dtype));
  }
  if (!args.out_dir.empty()) {
    if (absl::Status s = MakeOutDir(args.out_dir); !s.ok()) return s;
    for (const auto& [name, tensor] : tensors) {
      if (absl::Status s = client::WriteNpy(NpyPath(args.out_dir, name), tensor); !s.ok()) {
        return s;
      }
    }
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
