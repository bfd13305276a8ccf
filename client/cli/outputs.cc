#include "client/cli/outputs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "io/file_io.h"

namespace hnet::cli {
namespace {

// The directory holding `path` ("." for a bare name).
std::string Parent(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

absl::Status StatError(absl::string_view flag, const std::string& path, int error) {
  const std::string message = absl::StrCat(flag, ": '", path, "': ", std::strerror(error));
  switch (error) {
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case ENOENT:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InvalidArgumentError(message);
  }
}

// OK when new files can be created in the existing directory `dir`.
absl::Status CheckWritableDir(absl::string_view flag, const std::string& dir) {
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(flag, ": cannot write into directory '", dir, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

std::string DirectoryOfFile(const std::string& path) {
  return Parent(io::ResolveLinks(path).value_or(path));
}

std::string NearestExistingDirectory(const std::string& dir) {
  std::string existing = dir;
  struct stat st {};
  while (::stat(existing.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    const std::string parent = std::filesystem::path(existing).parent_path().string();
    if (parent.empty() || parent == existing) return parent.empty() ? "." : parent;
    existing = parent;
  }
  return existing;
}

absl::Status CheckOutputFile(absl::string_view flag, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {  // follows symlinks, as the writer does
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": '", path, "' is a directory; give a file name"));
    }
    if (io::IsWrittenInPlace(path)) {  // a device, FIFO or /dev/stdout
      if (::access(path.c_str(), W_OK) != 0) return StatError(flag, path, errno);
      return absl::OkStatus();
    }
    // A regular file is replaced by a rename in the directory of its real path.
    std::error_code error;
    const std::filesystem::path real = std::filesystem::canonical(path, error);
    return CheckWritableDir(flag, error ? Parent(path) : Parent(real.string()));
  }
  if (errno != ENOENT) return StatError(flag, path, errno);
  // A dangling symlink: the writer creates the file it names.
  const std::string parent = Parent(io::ResolveLinks(path).value_or(path));
  if (::stat(parent.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat(flag, ": directory '", parent, "' does not exist (for '", path, "')"));
    }
    return StatError(flag, parent, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": '", parent, "' is not a directory (for '", path, "')"));
  }
  return CheckWritableDir(flag, parent);
}

absl::Status CheckOutputDir(absl::string_view flag, const std::string& dir) {
  struct stat st {};
  std::string existing = dir;
  while (::stat(existing.c_str(), &st) != 0) {
    if (errno != ENOENT || existing == ".") return StatError(flag, existing, errno);
    const std::string parent = std::filesystem::path(existing).parent_path().string();
    if (parent.empty() || parent == existing) {  // a relative name: the working directory
      existing = ".";
      continue;
    }
    existing = parent;
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        existing == dir ? absl::StrCat(flag, ": '", dir, "' exists and is not a directory")
                        : absl::StrCat(flag, ": cannot create '", dir, "': '", existing,
                                       "' is not a directory"));
  }
  return CheckWritableDir(flag, existing);
}

}  // namespace hnet::cli
