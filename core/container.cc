#include "core/container.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <vector>

#include "absl/strings/str_cat.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "hnet files assume a little-endian host");

namespace hnet::core {
namespace {

constexpr size_t kMagicSize = 8;
constexpr size_t kHeaderSize = kMagicSize + 4 + 4 + 8;
constexpr const ContainerKind* kKnownKinds[] = {&kCheckpointContainer, &kWeightEnsembleContainer};

uint32_t Crc32(const std::string& data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* bytes = reinterpret_cast<const Bytef*>(data.data());
  size_t left = data.size();
  while (left > 0) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    crc = crc32(crc, bytes, chunk);
    bytes += chunk;
    left -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

absl::Status ErrnoStatus(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// The process umask, read without changing it (umask(2) would race with other threads); 022
// where /proc does not say.
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

// The file `path` names once every symlink on its last component is followed (relative links
// resolve against the link's directory); `path` itself when it is no symlink. A dangling link
// resolves to the file it would name. InvalidArgument for a loop of links.
absl::StatusOr<std::string> ResolveLinks(const std::string& path) {
  std::string current = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return current;
    std::vector<char> link(static_cast<size_t>(st.st_size > 0 ? st.st_size : PATH_MAX) + 1);
    const ssize_t got = ::readlink(current.c_str(), link.data(), link.size());
    if (got < 0) return ErrnoStatus("cannot read the symlink", current);
    if (got == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot write ", path, ": symlink ", current, " names nothing"));
    }
    if (static_cast<size_t>(got) >= link.size()) continue;  // Changed meanwhile: again.
    const std::string target(link.data(), static_cast<size_t>(got));
    const size_t slash = current.rfind('/');
    current = target.front() == '/' || slash == std::string::npos
                  ? target
                  : absl::StrCat(current.substr(0, slash + 1), target);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot write ", path, ": too many levels of symbolic links"));
}

}  // namespace

absl::Status WriteContainerFile(const std::string& path, const ContainerKind& kind,
                                uint32_t version, const std::string& payload) {
  if (kind.magic.size() != kMagicSize) {
    return absl::InternalError(absl::StrCat("container magic '", kind.magic, "' is not 8 bytes"));
  }
  if (payload.size() > kMaxContainerPayloadBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", kind.name, " ", path, ": its payload of ", payload.size(),
                     " bytes is above the limit of ", kMaxContainerPayloadBytes));
  }
  std::string header(kind.magic.data(), kMagicSize);
  const uint32_t crc = Crc32(payload);
  const uint64_t length = payload.size();
  header.append(reinterpret_cast<const char*>(&version), 4);
  header.append(reinterpret_cast<const char*>(&crc), 4);
  header.append(reinterpret_cast<const char*>(&length), 8);

  // A symlinked output (latest.hnet -> run3.hnet) is written through: the file it names is
  // replaced and the link stays.
  absl::StatusOr<std::string> target = ResolveLinks(path);
  if (!target.ok()) return target.status();
  std::filesystem::path dir = std::filesystem::path(*target).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // A failure shows when the file is created.
  struct stat st;
  const bool replaces = ::stat(target->c_str(), &st) == 0 && S_ISREG(st.st_mode);
  // mkostemp: a fresh name created with O_EXCL (never a file or link placed there before).
  std::string tmp = absl::StrCat(*target, ".tmp.XXXXXX");
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot create a temporary file for", path);
  // mkostemp creates 0600: keep the replaced file's permissions, or give a new file what an
  // ordinary create would (0644 less the umask).
  const mode_t mode = replaces ? (st.st_mode & 0777) : (0644 & ~CurrentUmask());
  absl::Status status;
  if (::fchmod(fd, mode) != 0) status = ErrnoStatus("cannot set the permissions of", tmp);
  if (status.ok()) status = WriteAll(fd, header.data(), header.size(), tmp);
  if (status.ok()) status = WriteAll(fd, payload.data(), payload.size(), tmp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("cannot fsync", tmp);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus("cannot close", tmp);
  if (status.ok() && ::rename(tmp.c_str(), target->c_str()) != 0) {
    status = ErrnoStatus("cannot rename onto", *target);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  // The rename is durable once the directory is synced. A directory this process may write
  // but not read cannot be opened to sync it; the file is in place all the same.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return absl::OkStatus();
  const bool synced = ::fsync(dir_fd) == 0;
  const int fsync_errno = errno;
  ::close(dir_fd);
  if (!synced && fsync_errno != EINVAL) {  // EINVAL: a file system that cannot sync directories.
    errno = fsync_errno;
    return ErrnoStatus("cannot fsync the directory of", *target);
  }
  return absl::OkStatus();
}

namespace {

// The status for errno `err` from opening or inspecting `path`.
absl::Status OpenError(int err, absl::string_view what, const std::string& path) {
  const std::string message =
      absl::StrCat(what, " ", path, " cannot be opened: ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case ENXIO:  // A socket or a device without its driver.
    case ELOOP:
    case ENAMETOOLONG:
      return absl::InvalidArgumentError(message);
    default:  // EMFILE, ENFILE, EIO, ...: may pass.
      return absl::UnavailableError(message);
  }
}

absl::Status NotRegular(absl::string_view what, const std::string& path) {
  return absl::InvalidArgumentError(absl::StrCat(what, " ", path, " is not a regular file"));
}

// Reads up to `size` bytes at the file offset of `fd` into `out`; returns how many were read
// (fewer only at the end of the file).
absl::StatusOr<size_t> ReadUpTo(int fd, char* out, size_t size, absl::string_view what,
                                const std::string& path) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::UnavailableError(
          absl::StrCat(what, " ", path, " cannot be read: ", std::strerror(errno)));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// The fields of a container header that has been checked against the file it came from.
struct Header {
  uint32_t crc;
  uint64_t length;
};

// Checks the `got` header bytes of a file of `file_size` bytes: the magic of `kind`, format
// `version`, and a payload length that is what the file holds and at most the limit.
absl::StatusOr<Header> ParseHeader(const std::string& path, const ContainerKind& kind,
                                   uint32_t version, const char* bytes, size_t got,
                                   uint64_t file_size) {
  auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(kind.name, " ", path, ": ", why));
  };
  const absl::string_view magic(bytes, std::min(got, kMagicSize));
  if (magic.size() == kMagicSize && magic != kind.magic) {
    for (const ContainerKind* other : kKnownKinds) {
      if (magic == other->magic) {
        return absl::InvalidArgumentError(absl::StrCat(path, " is a ", other->name, ", not a ",
                                                       kind.name, " (file magic ", other->magic,
                                                       ", expected ", kind.magic, ")"));
      }
    }
  }
  if (got < kHeaderSize || file_size < kHeaderSize || magic != kind.magic) {
    return corrupt(absl::StrCat("not an hnet ", kind.name, " (bad magic or too short)"));
  }
  uint32_t file_version;
  Header header;
  std::memcpy(&file_version, bytes + 8, 4);
  std::memcpy(&header.crc, bytes + 12, 4);
  std::memcpy(&header.length, bytes + 16, 8);
  if (file_version != version) {
    return absl::FailedPreconditionError(
        absl::StrCat(kind.name, " ", path, ": format version ", file_version,
                     " is not supported (this build reads version ", version, ")"));
  }
  if (file_size - kHeaderSize != header.length) {
    return corrupt(absl::StrCat("truncated or padded: header says ", header.length,
                                " payload bytes, file has ", file_size - kHeaderSize));
  }
  if (header.length > kMaxContainerPayloadBytes) {
    return corrupt(absl::StrCat("header says ", header.length,
                                " payload bytes, above the limit of ", kMaxContainerPayloadBytes,
                                " (no hnet file is that large)"));
  }
  return header;
}

}  // namespace

// The header is read and checked against the file's size before the payload's memory is
// allocated: a huge or sparse file that is no container costs one small read. Anything but a
// regular file is refused before it is opened (a FIFO is never waited on, a device never
// opened) and again after (it may have been swapped in between). Exactly the payload length is
// read, so a growing file cannot make this read forever.
absl::StatusOr<std::string> ReadContainerFile(const std::string& path, const ContainerKind& kind,
                                              uint32_t version, uint32_t* payload_crc) {
  const absl::string_view what = kind.name;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return OpenError(errno, what, path);
  if (!S_ISREG(st.st_mode)) return NotRegular(what, path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return OpenError(errno, what, path);
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  if (::fstat(fd, &st) != 0) return OpenError(errno, what, path);
  if (!S_ISREG(st.st_mode)) return NotRegular(what, path);
  // Regular files: blocking reads (some network file systems honour O_NONBLOCK with EAGAIN).
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);

  char header_bytes[kHeaderSize];
  absl::StatusOr<size_t> got = ReadUpTo(fd, header_bytes, kHeaderSize, what, path);
  if (!got.ok()) return got.status();
  absl::StatusOr<Header> header =
      ParseHeader(path, kind, version, header_bytes, *got, static_cast<uint64_t>(st.st_size));
  if (!header.ok()) return header.status();

  std::string payload;
  try {
    payload.resize(static_cast<size_t>(header->length));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(what, " ", path, ": cannot allocate ",
                                                     header->length, " bytes for its payload"));
  }
  got = ReadUpTo(fd, payload.data(), payload.size(), what, path);
  if (!got.ok()) return got.status();
  if (*got != payload.size()) {
    return absl::DataLossError(absl::StrCat(what, " ", path, ": truncated while being read: ", *got,
                                            " of ", payload.size(), " payload bytes"));
  }
  if (Crc32(payload) != header->crc) {
    return absl::DataLossError(
        absl::StrCat(what, " ", path, ": checksum mismatch (file is corrupted)"));
  }
  if (payload_crc != nullptr) *payload_crc = header->crc;
  return payload;
}

}  // namespace hnet::core
