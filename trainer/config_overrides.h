// The run config a command line asks for: a base config, text-format fragments (--set) and
// the individual flags that override single fields.
#ifndef HNET_TRAINER_CONFIG_OVERRIDES_H_
#define HNET_TRAINER_CONFIG_OVERRIDES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hnet/v1/config.pb.h"

namespace hnet::trainer {

// What the user gave; an empty optional means the flag was absent.
struct ConfigOverrides {
  std::vector<std::string> fragments;  // --set, applied in order.
  std::optional<int64_t> steps;
  std::optional<double> lambda;
  std::optional<uint64_t> seed;
  std::optional<int32_t> eval_every;
  std::optional<int32_t> checkpoint_every;
  std::optional<int32_t> eval_networks;
};

// `base` with the fragments merged (core::ApplyConfigOverride), the paper's defaults filled in,
// then the given flags set, so that a flag's 0 or negative value is validated, never taken for
// "unset". Errors are INVALID_ARGUMENT naming the fragment or the config field.
absl::StatusOr<hnet::v1::TrainingConfig> ResolveConfig(hnet::v1::TrainingConfig base,
                                                       const ConfigOverrides& overrides);

}  // namespace hnet::trainer

#endif  // HNET_TRAINER_CONFIG_OVERRIDES_H_
