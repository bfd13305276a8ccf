// Global flags of the `hnet` CLI checked outside CLI11: the server addresses (--server or
// $HNET_SERVER) and --model_version.
#ifndef HNET_CLIENT_CLI_FLAGS_H_
#define HNET_CLIENT_CLI_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hnet::cli {

// Where the CLI connects when neither --server nor $HNET_SERVER says.
inline constexpr absl::string_view kDefaultServer = "localhost:50051";

// The addresses to connect to: the --server values when the flag was given (`flag`, already
// split at commas by CLI11), else $HNET_SERVER (`env`, comma-separated; unset, empty or blank:
// ignored), else kDefaultServer. Whitespace around each address is dropped. INVALID_ARGUMENT
// naming --server or HNET_SERVER for an empty address (e.g. --server "" or "a:1,,b:2").
absl::StatusOr<std::vector<std::string>> ServerAddresses(
    const std::optional<std::vector<std::string>>& flag, const char* env);

// INVALID_ARGUMENT naming --model_version unless `version` >= 0 (0: the latest).
absl::Status CheckModelVersion(int64_t version);

}  // namespace hnet::cli

#endif  // HNET_CLIENT_CLI_FLAGS_H_
