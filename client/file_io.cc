#include "client/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace hnet::client {
namespace {

absl::Status ErrnoStatus(int error, absl::string_view what, const std::string& path) {
  const std::string message = absl::StrCat(what, " '", path, "': ", std::strerror(error));
  switch (error) {
    case ENOENT: return absl::NotFoundError(message);
    case EACCES:
    case EPERM: return absl::PermissionDeniedError(message);
    case EISDIR: return absl::InvalidArgumentError(message);
    default: return absl::UnknownError(message);
  }
}

// Closes `fd` on scope exit unless released.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// The process umask, read without changing it (umask(2) would race with other threads);
// 022 where /proc does not say.
mode_t CurrentUmask() {
  std::FILE* status = std::fopen("/proc/self/status", "re");
  if (status == nullptr) return 022;
  unsigned int mask = 022;
  char line[256];
  while (std::fgets(line, sizeof(line), status) != nullptr) {
    if (std::sscanf(line, "Umask: %o", &mask) == 1) break;
  }
  std::fclose(status);
  return static_cast<mode_t>(mask);
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  FdCloser closer(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "cannot stat", path);
  if (S_ISDIR(st.st_mode)) return ErrnoStatus(EISDIR, "cannot read", path);
  std::string bytes;
  if (S_ISREG(st.st_mode)) bytes.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read", path);
    }
    if (got == 0) break;
    bytes.append(buffer, static_cast<size_t>(got));
  }
  return bytes;
}

absl::Status WriteFile(const std::string& path, absl::string_view bytes) {
  // A fresh temporary name beside `path`: concurrent writers never share one, and nothing
  // already there is overwritten until the rename.
  std::vector<char> tmp_name(path.begin(), path.end());
  const std::string suffix = ".tmp.XXXXXX";
  tmp_name.insert(tmp_name.end(), suffix.begin(), suffix.end());
  tmp_name.push_back('\0');
  const int fd = ::mkstemp(tmp_name.data());
  if (fd < 0) return ErrnoStatus(errno, "cannot create a temporary file for", path);
  const std::string tmp(tmp_name.data());
  FdCloser closer(fd);
  auto fail = [&](int error, absl::string_view what) {
    ::close(closer.Release());
    ::unlink(tmp.c_str());
    return ErrnoStatus(error, what, tmp);
  };
  // mkstemp creates 0600; give the file the permissions an ordinary create would.
  if (::fchmod(fd, 0666 & ~CurrentUmask()) != 0) return fail(errno, "cannot set permissions of");
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t wrote = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      return fail(errno, "cannot write");
    }
    done += static_cast<size_t>(wrote);
  }
  if (::fsync(fd) != 0) return fail(errno, "cannot sync");
  if (::close(closer.Release()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(error, "cannot close", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(error, "cannot rename to", path);
  }
  return absl::OkStatus();
}

}  // namespace hnet::client
