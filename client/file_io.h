// Whole-file reads and writes for the writers and the CLI.
#ifndef HNET_CLIENT_FILE_IO_H_
#define HNET_CLIENT_FILE_IO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hnet::client {

// The bytes of the file at `path`; NOT_FOUND if it does not exist, PERMISSION_DENIED or
// UNKNOWN for other failures, each naming the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Replaces the file at `path` with `bytes` (written to path + ".tmp", then renamed, so a
// failure never leaves a half-written file under `path`).
absl::Status WriteFile(const std::string& path, absl::string_view bytes);

}  // namespace hnet::client

#endif  // HNET_CLIENT_FILE_IO_H_
