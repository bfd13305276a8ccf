// `hnet path`: accuracy along direct and interpolated paths between two networks.
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "client/cli/inputs.h"
#include "client/cli/outputs.h"
#include "io/file_io.h"

namespace hnet::cli {
namespace {

absl::StatusOr<client::PathMode> ParseMode(const std::string& mode) {
  if (mode == "both") return client::PathMode::kBoth;
  if (mode == "direct") return client::PathMode::kDirect;
  if (mode == "interpolated") return client::PathMode::kInterpolated;
  return absl::InvalidArgumentError(
      absl::StrCat("--mode: '", mode, "' is not both, direct or interpolated"));
}

}  // namespace

absl::Status CheckPathArgs(const PathArgs& args) {
  if (absl::Status s = CheckModelVersion(args.model_version); !s.ok()) return s;
  if (absl::Status s = ParseMode(args.mode).status(); !s.ok()) return s;
  if (args.points < 2) {
    return absl::InvalidArgumentError(absl::StrCat("--points: must be >= 2, got ", args.points));
  }
  if (args.images.empty() != args.labels.empty()) {
    return absl::InvalidArgumentError("--labels: give --images and --labels together");
  }
  if (args.limit < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--limit: must be >= 0, got ", args.limit));
  }
  if (args.limit != 0 && args.images.empty()) {
    return absl::InvalidArgumentError(
        "--limit: applies to --images; the server's evaluation split is always used whole");
  }
  return absl::OkStatus();
}

absl::Status CheckPathOutputs(const PathArgs& args) {
  return args.csv.empty() ? absl::OkStatus() : CheckOutputFile("--csv", args.csv);
}

absl::Status RunPath(const client::Client& client, const std::string& model, const PathArgs& args,
                     std::ostream& out) {
  if (absl::Status s = CheckPathArgs(args); !s.ok()) return s;
  if (absl::Status s = CheckPathOutputs(args); !s.ok()) return s;
  client::PathOptions options;
  options.version = args.model_version;
  absl::StatusOr<client::PathMode> mode = ParseMode(args.mode);
  if (!mode.ok()) return mode.status();
  options.mode = *mode;
  options.start = client::Noise::FromSeed(args.start_seed);
  options.end = client::Noise::FromSeed(args.end_seed);
  options.points = args.points;
  if (!args.images.empty()) {
    absl::StatusOr<client::Tensor> images = LoadImages({args.images});
    if (!images.ok()) return images.status();
    absl::StatusOr<client::Tensor> labels = LoadLabels(args.labels);
    if (!labels.ok()) return labels.status();
    // The whole files are compared, before --limit (as `classify` does).
    if (labels->shape[0] != images->shape[0]) {
      return absl::InvalidArgumentError(absl::StrCat("--labels: ", labels->shape[0], " labels for ",
                                                     images->shape[0], " images"));
    }
    options.inputs = Head(*images, args.limit);
    options.labels = Head(*labels, args.limit);
  }
  absl::StatusOr<client::PathResult> result = client.InterpolatePath(model, options);
  if (absl::IsResourceExhausted(result.status()) && !args.images.empty()) {
    return absl::ResourceExhaustedError(
        absl::StrCat(result.status().message(), "; send fewer inputs with --limit"));
  }
  if (!result.ok()) return result.status();

  out << absl::StrFormat("model %s version %d (content %s): seed %d -> seed %d, %d inputs\n", model,
                         result->model.version, result->model.content_hash, args.start_seed,
                         args.end_seed, result->evaluated_inputs);
  out << absl::StrFormat("%8s %10s %13s\n", "t", "direct", "interpolated");
  std::ostringstream csv;
  csv << "t,direct_accuracy,interpolated_accuracy\n";
  // A mode that was not run prints "-" and leaves its CSV cell empty (not an accuracy of 0).
  const bool direct = options.mode != client::PathMode::kInterpolated;
  const bool interpolated = options.mode != client::PathMode::kDirect;
  auto table = [](bool ran, double v) { return ran ? absl::StrFormat("%.4f", v) : "-"; };
  auto csv_cell = [](bool ran, double v) { return ran ? absl::StrFormat("%.6g", v) : ""; };
  for (const client::PathPoint& p : result->points) {
    out << absl::StrFormat("%8.4f %10s %13s\n", p.t, table(direct, p.direct_accuracy),
                           table(interpolated, p.interpolated_accuracy));
    csv << absl::StrFormat("%.6g,%s,%s\n", p.t, csv_cell(direct, p.direct_accuracy),
                           csv_cell(interpolated, p.interpolated_accuracy));
  }
  if (!args.csv.empty()) {
    if (absl::Status s = io::WriteFile(args.csv, csv.str()); !s.ok()) return s;
    out << "wrote " << args.csv << "\n";
  }
  return absl::OkStatus();
}

}  // namespace hnet::cli
