#include "client/cli/flags.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace hnet::cli {
namespace {

// `values` with surrounding whitespace stripped; an empty one is an error naming `source`.
absl::StatusOr<std::vector<std::string>> Stripped(const std::vector<absl::string_view>& values,
                                                  absl::string_view source,
                                                  absl::string_view given) {
  std::vector<std::string> addresses;
  for (absl::string_view value : values) {
    const absl::string_view address = absl::StripAsciiWhitespace(value);
    if (address.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": empty address in '", given, "'; give host:port[,host:port...]"));
    }
    addresses.emplace_back(address);
  }
  return addresses;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ServerAddresses(
    const std::optional<std::vector<std::string>>& flag, const char* env) {
  if (flag.has_value()) {
    const std::vector<absl::string_view> values(flag->begin(), flag->end());
    if (values.empty()) {
      return absl::InvalidArgumentError("--server: empty address; give host:port");
    }
    return Stripped(values, "--server", absl::StrJoin(*flag, ","));
  }
  if (env != nullptr && !absl::StripAsciiWhitespace(env).empty()) {
    return Stripped(absl::StrSplit(env, ','), "HNET_SERVER", env);
  }
  return std::vector<std::string>{std::string(kDefaultServer)};
}

absl::Status CheckModelVersion(int64_t version) {
  if (version >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--model_version: must be >= 0 (0: the latest), got ", version));
}

}  // namespace hnet::cli
