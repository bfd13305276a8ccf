#include "core/container.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>

#include "absl/strings/str_cat.h"
#include "io/file_io.h"

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
  // replaced and the link stays. Its directory is created first.
  absl::StatusOr<std::string> target = io::ResolveLinks(path);
  absl::Status written = target.status();
  if (target.ok()) {
    const std::filesystem::path dir = std::filesystem::path(*target).parent_path();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);  // A failure shows below.
    written = io::WriteFileFrom(*target, [&](io::ByteSink sink) {
      absl::Status s = sink(header);
      return s.ok() ? sink(payload) : s;
    });
  }
  if (written.ok()) return written;
  return absl::Status(written.code(),
                      absl::StrCat("cannot write ", kind.name, " ", path, ": ", written.message()));
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
