// `hnet info` and model resolution.
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"

namespace hnet::cli {
namespace {

absl::string_view DistributionName(client::ZDistribution d) {
  switch (d) {
    case client::ZDistribution::kNormal: return "normal";
    default: return "uniform";
  }
}

void PrintModel(const client::ModelInfo& m, std::ostream& out) {
  const client::TargetSpec& t = m.target;
  out << absl::StrFormat("model %s version %d (content %s%s) on %s\n", m.name, m.version_number,
                         m.content_hash, m.latest ? ", latest" : "", m.device);
  out << absl::StrFormat("  target %s: input %dx%dx%d, %d weights per network\n", t.name,
                         t.input_channels, t.input_height, t.input_width, m.weight_count);
  for (const client::LayerInfo& l : m.layers) {
    out << absl::StrFormat("    %-24s %-5s [%s] %d weights\n", l.name, l.kind,
                           absl::StrJoin(l.shape, ", "), l.weight_count);
  }
  out << absl::StrFormat("  z: %d dims, %s; %d hypernetwork parameters\n", m.z_dim,
                         DistributionName(m.z_distribution), m.parameter_count);
  out << absl::StrFormat("  trained %d steps, lambda %g\n", m.step, m.lambda);
  const client::ValidationMetrics& v = m.validation;
  if (v.networks > 0) {
    out << absl::StrFormat(
        "  validation at step %d over %d networks: accuracy mean %.4f min %.4f max %.4f "
        "sd %.4f; ensembles vote %.4f mean-prob %.4f confident %.4f; entropy %.4g\n",
        v.step, v.networks, v.mean_accuracy, v.min_accuracy, v.max_accuracy, v.std_accuracy,
        v.majority_vote_accuracy, v.mean_probability_accuracy, v.most_confident_accuracy,
        v.entropy);
  }
}

}  // namespace

absl::StatusOr<std::string> ResolveModel(const client::Client& client,
                                         const std::string& model) {
  if (!model.empty()) return model;
  absl::StatusOr<std::vector<client::ModelInfo>> models = client.ListModels();
  if (!models.ok()) return models.status();
  std::vector<std::string> names;  // Several versions of a name are one model.
  for (const client::ModelInfo& m : *models) {
    if (names.empty() || names.back() != m.name) names.push_back(m.name);
  }
  if (names.size() == 1) return names[0];
  return absl::InvalidArgumentError(
      models->empty() ? "--model: the server has no models"
                      : "--model: required, the server has " + absl::StrJoin(names, ", "));
}

absl::Status RunInfo(const client::Client& client, const std::string& model, int64_t version,
                     std::ostream& out) {
  if (absl::Status s = CheckModelVersion(version); !s.ok()) return s;
  if (!model.empty()) {
    absl::StatusOr<client::ModelInfo> info = client.GetModelInfo(model, version);
    if (!info.ok()) return info.status();
    PrintModel(*info, out);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<client::ModelInfo>> models = client.ListModels();
  if (!models.ok()) return models.status();
  if (models->empty()) out << "no models loaded\n";
  for (const client::ModelInfo& m : *models) PrintModel(m, out);
  return absl::OkStatus();
}

}  // namespace hnet::cli
