#include "trainer/config_overrides.h"

#include "absl/strings/str_cat.h"
#include "core/config.h"

namespace hnet::trainer {

absl::StatusOr<hnet::v1::TrainingConfig> ResolveConfig(hnet::v1::TrainingConfig base,
                                                       const ConfigOverrides& overrides) {
  for (const std::string& text : overrides.fragments) {
    if (absl::Status s = core::ApplyConfigOverride(text, &base); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--set '", text, "': ", s.message()));
    }
  }
  hnet::v1::TrainingConfig config = core::WithDefaults(base);
  if (overrides.steps) config.set_steps(*overrides.steps);
  if (overrides.lambda) config.set_lambda(*overrides.lambda);
  if (overrides.seed) config.set_seed(*overrides.seed);
  auto* eval = config.mutable_eval();
  if (overrides.eval_every) eval->set_every_steps(*overrides.eval_every);
  if (overrides.checkpoint_every) eval->set_checkpoint_every(*overrides.checkpoint_every);
  if (overrides.eval_networks) eval->set_networks(*overrides.eval_networks);
  if (absl::Status s = core::ValidateConfig(config); !s.ok()) return s;
  return config;
}

}  // namespace hnet::trainer
