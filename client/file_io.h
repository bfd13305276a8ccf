// Whole-file reads and writes for the writers and the CLI.
#ifndef HNET_CLIENT_FILE_IO_H_
#define HNET_CLIENT_FILE_IO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hnet::client {

// The bytes of the file at `path`; NOT_FOUND if it does not exist, INVALID_ARGUMENT for a
// directory, PERMISSION_DENIED or UNKNOWN for other failures, each naming the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Replaces the file at `path` with `bytes`: written to a fresh path + ".tmp.XXXXXX", synced,
// then renamed, so neither a failure nor a crash leaves a half-written file under `path`.
// Thread-safe; concurrent writers of one path each leave a whole file (the last rename wins).
absl::Status WriteFile(const std::string& path, absl::string_view bytes);

}  // namespace hnet::client

#endif  // HNET_CLIENT_FILE_IO_H_
