// CLI11 helpers shared by hnet-train and hnet-baseline (header-only; mains link CLI11).
#ifndef HNET_TRAINER_CLI_FLAGS_H_
#define HNET_TRAINER_CLI_FLAGS_H_

#include <CLI/CLI.hpp>
#include <string>

namespace hnet::trainer {

// Refuses "-1" for an unsigned flag, which CLI11 would otherwise wrap around.
inline CLI::Validator NonNegative() {
  return CLI::Validator(
      [](const std::string& value) {
        return value.rfind('-', 0) == 0 ? std::string("must be >= 0") : std::string();
      },
      "NONNEGATIVE");
}

}  // namespace hnet::trainer

#endif  // HNET_TRAINER_CLI_FLAGS_H_
