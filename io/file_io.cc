#include "io/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace hnet::io {
namespace {

absl::Status ErrnoStatus(int error, absl::string_view what, const std::string& path) {
  const std::string message = absl::StrCat(what, " '", path, "': ", std::strerror(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case EISDIR:
    case ENOTDIR:
    case ELOOP:
      return absl::InvalidArgumentError(message);
    default:
      return absl::UnknownError(message);
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

// Temporary files being written, for RemovePendingTemporaryFiles. A slot is free (0), being
// filled or emptied (1), or holds the path of a temporary file that exists (2). Only
// lock-free atomics and plain char arrays, so a signal handler may read them.
constexpr int kPendingSlots = 64;
struct PendingSlot {
  std::atomic<int> state{0};
  char path[4096];
};
PendingSlot pending_slots[kPendingSlots];
static_assert(std::atomic<int>::is_always_lock_free);

// Claims a slot for a temporary file; the template is created in place by mkostemp (so the
// slot already holds the final name) and published by Publish(). Without a free slot (or
// for a path too long) the file is simply not tracked.
class PendingTemporary {
 public:
  explicit PendingTemporary(const std::string& name_template) {
    for (PendingSlot& slot : pending_slots) {
      if (name_template.size() >= sizeof(PendingSlot::path)) break;
      int expected = 0;
      if (slot.state.compare_exchange_strong(expected, 1)) {
        slot_ = &slot;
        std::memcpy(slot.path, name_template.c_str(), name_template.size() + 1);
        return;
      }
    }
    own_.assign(name_template.begin(), name_template.end());
    own_.push_back('\0');
  }
  ~PendingTemporary() {
    if (slot_ != nullptr) slot_->state.store(0);
  }
  PendingTemporary(const PendingTemporary&) = delete;
  PendingTemporary& operator=(const PendingTemporary&) = delete;

  // The template to hand to mkostemp (it writes the final name into it).
  char* name() { return slot_ != nullptr ? slot_->path : own_.data(); }
  // The file now exists: a signal handler may unlink it.
  void Publish() {
    if (slot_ != nullptr) slot_->state.store(2);
  }
  // The file is gone (renamed or unlinked).
  void Retract() {
    if (slot_ != nullptr) slot_->state.store(1);
  }

 private:
  PendingSlot* slot_ = nullptr;
  std::vector<char> own_;
};

}  // namespace

absl::StatusOr<std::string> ResolveLinks(const std::string& path) {
  std::string current = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return current;
    std::vector<char> target(static_cast<size_t>(st.st_size > 0 ? st.st_size : PATH_MAX) + 1);
    const ssize_t got = ::readlink(current.c_str(), target.data(), target.size());
    if (got < 0) return ErrnoStatus(errno, "cannot read the link", current);
    if (got == 0) return ErrnoStatus(ENOENT, "cannot resolve the empty link", current);
    if (static_cast<size_t>(got) >= target.size()) continue;  // changed meanwhile: again
    const std::string link(target.data(), static_cast<size_t>(got));
    const size_t slash = current.rfind('/');
    current = link.front() == '/' || slash == std::string::npos
                  ? link
                  : absl::StrCat(current.substr(0, slash + 1), link);
  }
  return ErrnoStatus(ELOOP, "cannot resolve", path);
}

bool IsWrittenInPlace(const std::string& path) {
  if (path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0) return true;
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

namespace {

// Writes everything `produce` passes on to `fd`; `name` names the file in errors.
absl::Status WriteAll(int fd, const std::string& name,
                      absl::FunctionRef<absl::Status(ByteSink sink)> produce) {
  return produce([&](absl::string_view bytes) -> absl::Status {
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t wrote = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (wrote < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "cannot write", name);
      }
      done += static_cast<size_t>(wrote);
    }
    return absl::OkStatus();
  });
}

// Makes a rename into the directory of `file` durable. A directory this process may write but
// not read cannot be opened to sync it, and some file systems cannot sync directories (EINVAL):
// the file is in place all the same.
absl::Status SyncDirectoryOf(const std::string& file) {
  const size_t slash = file.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : file.substr(0, slash + 1);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::OkStatus();
  FdCloser closer(fd);
  if (::fsync(fd) != 0 && errno != EINVAL)
    return ErrnoStatus(errno, "cannot sync the directory of", file);
  return absl::OkStatus();
}

// A device, FIFO, socket or descriptor (/dev/stdout): written where it is, appended to (a
// shell's `>> file` behind /dev/stdout keeps what it had), never replaced by a regular file.
absl::Status WriteInPlace(const std::string& path,
                          absl::FunctionRef<absl::Status(ByteSink sink)> produce) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  FdCloser closer(fd);
  if (absl::Status s = WriteAll(fd, path, produce); !s.ok()) return s;
  if (::close(closer.Release()) != 0) return ErrnoStatus(errno, "cannot close", path);
  return absl::OkStatus();
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

absl::Status WriteFileFrom(const std::string& path,
                           absl::FunctionRef<absl::Status(ByteSink sink)> produce) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return ErrnoStatus(EISDIR, "cannot write", path);
  }
  if (IsWrittenInPlace(path)) return WriteInPlace(path, produce);
  // A regular file or a new one: the links are followed here, so that the temporary file
  // and the rename happen beside the real file and the links stay.
  absl::StatusOr<std::string> target = ResolveLinks(path);
  if (!target.ok()) return target.status();
  const bool exists = ::stat(target->c_str(), &st) == 0;

  // A fresh temporary name beside the target: concurrent writers never share one, and
  // nothing already there is overwritten until the rename.
  PendingTemporary pending(*target + ".tmp.XXXXXX");
  const int fd = ::mkostemp(pending.name(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot create a temporary file for", path);
  pending.Publish();
  const std::string tmp(pending.name());
  FdCloser closer(fd);
  auto discard = [&] {
    ::unlink(tmp.c_str());
    pending.Retract();
  };
  auto fail = [&](int error, absl::string_view what) {
    ::close(closer.Release());
    discard();
    return ErrnoStatus(error, what, tmp);
  };
  // mkostemp creates 0600: keep the replaced file's bits, or those an ordinary create gives.
  const mode_t mode = exists ? (st.st_mode & 07777) : (0666 & ~CurrentUmask());
  if (::fchmod(fd, mode) != 0) return fail(errno, "cannot set permissions of");
  if (absl::Status s = WriteAll(fd, tmp, produce); !s.ok()) {
    ::close(closer.Release());
    discard();
    return s;
  }
  if (::fsync(fd) != 0) return fail(errno, "cannot sync");
  if (::close(closer.Release()) != 0) {
    const int error = errno;
    discard();
    return ErrnoStatus(error, "cannot close", tmp);
  }
  if (std::rename(tmp.c_str(), target->c_str()) != 0) {
    const int error = errno;
    discard();
    return ErrnoStatus(error, "cannot rename to", path);
  }
  pending.Retract();
  return SyncDirectoryOf(*target);
}

absl::Status WriteFile(const std::string& path, absl::string_view bytes) {
  return WriteFileFrom(path, [bytes](ByteSink sink) { return sink(bytes); });
}

void RemovePendingTemporaryFiles() {
  for (PendingSlot& slot : pending_slots) {
    if (slot.state.load() == 2) ::unlink(slot.path);
  }
}

}  // namespace hnet::io
