#include "trainer/output_path.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"

namespace hnet::trainer {

namespace fs = std::filesystem;

absl::Status CheckOutputPath(const std::string& flag, const std::string& path, bool overwrite,
                             const std::string& resume_path) {
  const std::string what = absl::StrCat(flag, " ", path);
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": empty path"));
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (fs::is_directory(status)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": is a directory; name a file in it"));
  }
  if (fs::exists(status)) {
    const bool in_place = !resume_path.empty() && fs::equivalent(path, resume_path, ec);
    if (!in_place && !overwrite) {
      return absl::AlreadyExistsError(
          absl::StrCat(what, ": exists; pass --overwrite to replace it"));
    }
  }
  const fs::path parent = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : ".";
  if (!fs::is_directory(parent, ec)) {
    return absl::NotFoundError(
        absl::StrCat(what, ": directory ", parent.string(), " does not exist"));
  }
  std::string probe = (parent / ".hnet-write-check.XXXXXX").string();
  std::vector<char> name(probe.begin(), probe.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    const int error = errno;
    return absl::PermissionDeniedError(absl::StrCat(what, ": cannot create files in ",
                                                    parent.string(), ": ", std::strerror(error)));
  }
  ::close(fd);
  ::unlink(name.data());
  return absl::OkStatus();
}

}  // namespace hnet::trainer
