#include "client/cli/spool.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hnet::cli {
namespace {

absl::Status SpoolError(int error, absl::string_view what, const std::string& dir) {
  const std::string message =
      absl::StrCat("cannot ", what, " a temporary file in '", dir,
                   "' (streamed networks wait there): ", std::strerror(error));
  switch (error) {
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case ENOENT:
      return absl::FailedPreconditionError(message);
    default:
      return absl::UnknownError(message);
  }
}

absl::Status Malformed(absl::string_view what) {
  return absl::InternalError(absl::StrCat("malformed response: ", what));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SpoolFile>> SpoolFile::Create(const std::string& dir) {
  // An unnamed file where the kernel offers them; else a named one, unlinked at once.
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    std::string name = absl::StrCat(dir, "/.hnet-spool.XXXXXX");
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(name.c_str());
  }
  if (fd < 0) return SpoolError(errno, "create", dir);
  return std::unique_ptr<SpoolFile>(new SpoolFile(fd, dir));
}

SpoolFile::~SpoolFile() { ::close(fd_); }

absl::Status SpoolFile::Append(absl::string_view bytes) {
  for (absl::string_view rest = bytes; !rest.empty();) {
    const size_t piece = std::min<size_t>(rest.size(), 1u << 30);  // zlib takes 32-bit lengths
    crc_ = static_cast<uint32_t>(
        ::crc32(crc_, reinterpret_cast<const Bytef*>(rest.data()), static_cast<uInt>(piece)));
    rest.remove_prefix(piece);
  }
  size_ += bytes.size();
  if (buffer_.size() + bytes.size() <= kBufferBytes) {
    buffer_.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  if (absl::Status s = Flush(); !s.ok()) return s;
  if (bytes.size() > kBufferBytes) return Write(bytes);  // a large piece goes straight through
  buffer_.append(bytes.data(), bytes.size());
  return absl::OkStatus();
}

absl::Status SpoolFile::Write(absl::string_view bytes) {
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t wrote = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      return SpoolError(errno, "write", dir_);
    }
    done += static_cast<size_t>(wrote);
  }
  return absl::OkStatus();
}

absl::Status SpoolFile::Flush() {
  absl::Status s = Write(buffer_);
  buffer_.clear();
  return s;
}

absl::Status SpoolFile::ReadAll(io::ByteSink sink) {
  if (absl::Status s = Flush(); !s.ok()) return s;
  std::string piece(static_cast<size_t>(std::min<uint64_t>(size_, kBufferBytes)), '\0');
  for (uint64_t offset = 0; offset < size_;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(size_ - offset, piece.size()));
    const ssize_t got = ::pread(fd_, piece.data(), want, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return SpoolError(errno, "read", dir_);
    }
    if (got == 0) return SpoolError(EIO, "read (it is shorter than written)", dir_);
    if (absl::Status s = sink(absl::string_view(piece.data(), static_cast<size_t>(got))); !s.ok()) {
      return s;
    }
    offset += static_cast<uint64_t>(got);
  }
  return absl::OkStatus();
}

NetworkSpool::NetworkSpool(std::string dir, int64_t expected, bool with_z)
    : dir_(std::move(dir)), expected_(expected), with_z_(with_z) {}

size_t NetworkSpool::buffered_bytes() const {
  size_t bytes = 0;
  for (const Part& part : parts_) bytes += part.file->buffered_bytes();
  return bytes;
}

absl::Status NetworkSpool::Append(Part& part, const client::Tensor& tensor) {
  if (absl::Status s = client::ValidateTensor(tensor, part.name); !s.ok()) {
    return Malformed(s.message());
  }
  if (tensor.dtype != part.dtype || tensor.shape != part.shape) {
    return Malformed(
        absl::StrCat("network ", count_, ": ", part.name, " is ", client::DTypeName(tensor.dtype),
                     " [", absl::StrJoin(tensor.shape, ", "), "], network 0's ",
                     client::DTypeName(part.dtype), " [", absl::StrJoin(part.shape, ", "), "]"));
  }
  return part.file->Append(tensor.bytes);
}

absl::Status NetworkSpool::Add(const client::GeneratedNetwork& network) {
  if (count_ >= expected_) {
    return Malformed(absl::StrCat("more than the ", expected_, " networks requested"));
  }
  if (with_z_ && client::IsUnset(network.z)) {
    return Malformed(absl::StrCat("network ", count_, " without its z"));
  }
  if (count_ == 0) {  // the layout of every network
    model_ = network.model;
    std::vector<std::pair<std::string, const client::Tensor*>> parts;
    for (const client::Layer& layer : network.layers) {
      parts.emplace_back(layer.name, &layer.weights);
    }
    if (with_z_) parts.emplace_back("z", &network.z);
    for (const auto& [name, tensor] : parts) {
      absl::StatusOr<std::unique_ptr<SpoolFile>> file = SpoolFile::Create(dir_);
      if (!file.ok()) return file.status();
      parts_.push_back(Part{name, tensor->dtype, tensor->shape, *std::move(file)});
    }
  }
  const size_t layers = parts_.size() - (with_z_ ? 1 : 0);
  if (network.layers.size() != layers) {
    return Malformed(absl::StrCat("network ", count_, " has ", network.layers.size(),
                                  " layers, network 0 ", layers));
  }
  for (size_t l = 0; l < layers; ++l) {
    if (network.layers[l].name != parts_[l].name) {
      return Malformed(absl::StrCat("network ", count_, ": layer ", l, " is '",
                                    network.layers[l].name, "', network 0's '", parts_[l].name,
                                    "'"));
    }
    if (absl::Status s = Append(parts_[l], network.layers[l].weights); !s.ok()) return s;
  }
  if (with_z_) {
    if (absl::Status s = Append(parts_.back(), network.z); !s.ok()) return s;
  }
  ++count_;
  return absl::OkStatus();
}

absl::StatusOr<client::NamedTensorSources> NetworkSpool::Sources() {
  if (count_ != expected_) {
    return Malformed(
        absl::StrCat("the stream ended after ", count_, " of ", expected_, " networks"));
  }
  client::NamedTensorSources sources;
  for (Part& part : parts_) {
    client::TensorSource source;
    source.dtype = part.dtype;
    source.shape = part.shape;
    source.shape.insert(source.shape.begin(), count_);
    source.crc32 = part.file->crc32();
    SpoolFile* file = part.file.get();
    source.produce = [file](io::ByteSink sink) { return file->ReadAll(sink); };
    sources.emplace_back(part.name, std::move(source));
  }
  return sources;
}

}  // namespace hnet::cli
