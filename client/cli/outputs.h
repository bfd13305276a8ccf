// Checks of the CLI's output destinations, made before any server call so that a bad path
// fails at once instead of after a long download.
#ifndef HNET_CLIENT_CLI_OUTPUTS_H_
#define HNET_CLIENT_CLI_OUTPUTS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hnet::cli {

// OK when io::WriteFileFrom can write the file `path`: an existing regular file (or
// symlink to one) or a new name in a writable directory, or an existing writable device or
// FIFO. Errors name `flag` and the path: INVALID_ARGUMENT for a directory or a path through a
// non-directory, FAILED_PRECONDITION when the directory does not exist, PERMISSION_DENIED.
absl::Status CheckOutputFile(absl::string_view flag, const std::string& path);

// OK when `dir` is a writable directory, or can be created (its nearest existing ancestor
// is a writable directory). Errors as CheckOutputFile; INVALID_ARGUMENT when `dir` or an
// ancestor exists and is not a directory.
absl::Status CheckOutputDir(absl::string_view flag, const std::string& dir);

// The directory where the file `path` will be (or is) written: that of its target when
// `path` is a symlink; "." for a bare name.
std::string DirectoryOfFile(const std::string& path);

// `dir` if it is an existing directory, else its nearest existing ancestor ("." for a
// relative path none of whose ancestors exists).
std::string NearestExistingDirectory(const std::string& dir);

}  // namespace hnet::cli

#endif  // HNET_CLIENT_CLI_OUTPUTS_H_
