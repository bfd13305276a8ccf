// Training configs: shipped configs by name, text-format parsing, defaults and validation.
#ifndef HNET_CORE_CONFIG_H_
#define HNET_CORE_CONFIG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "hnet/v1/config.pb.h"

namespace hnet::core {

// (name, text-format TrainingConfig) for every file in configs/, compiled in.
const std::vector<std::pair<std::string, std::string>>& ShippedConfigs();

// The shipped configs' names, comma-separated ("mnist, mnist_tuned, toy"), for help and errors.
std::string ShippedConfigNames();

// Parses a TrainingConfig from protobuf text format; the error names the line and column.
absl::StatusOr<hnet::v1::TrainingConfig> ParseConfig(const std::string& text);

// Loads `name_or_path`: the name of a shipped config ("mnist", "toy") or a file path.
absl::StatusOr<hnet::v1::TrainingConfig> LoadConfig(const std::string& name_or_path);

// Merges a text-format fragment (e.g. "diversity { metric: L1 }") into *config: scalars it
// names are set (zeros included), and a list it names replaces the list in *config rather than
// growing it. INVALID_ARGUMENT naming the line and column when the fragment does not parse;
// *config is then unchanged.
absl::Status ApplyConfigOverride(const std::string& text, hnet::v1::TrainingConfig* config);

// Returns config with every unset (zero) scalar and enum replaced by the paper's default; the
// target defaults to the paper's MNIST network, and for that target an empty generator list
// becomes the paper's extractor and generator widths. Booleans (e.g. diversity.scale_gauge)
// keep proto3's false: the shipped configs set them.
hnet::v1::TrainingConfig WithDefaults(const hnet::v1::TrainingConfig& config);

// Checks a (defaulted) config for consistency; the error names the offending field.
absl::Status ValidateConfig(const hnet::v1::TrainingConfig& config);

}  // namespace hnet::core

#endif  // HNET_CORE_CONFIG_H_
