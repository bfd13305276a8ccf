#include "core/checkpoint.h"

#include <fcntl.h>
#include <torch/torch.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "core/torch_status.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "checkpoints assume a little-endian host");

namespace hnet::core {
namespace {

constexpr char kMagic[8] = {'H', 'N', 'E', 'T', 'C', 'K', 'P', 'T'};
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8;

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

struct DTypeInfo {
  hnet::v1::TensorProto::DType proto;
  at::ScalarType torch;
  size_t bytes;
};
constexpr DTypeInfo kDTypes[] = {
    {hnet::v1::TensorProto::FLOAT32, at::kFloat, 4},
    {hnet::v1::TensorProto::FLOAT64, at::kDouble, 8},
    {hnet::v1::TensorProto::INT64, at::kLong, 8},
    {hnet::v1::TensorProto::UINT8, at::kByte, 1},
    {hnet::v1::TensorProto::INT32, at::kInt, 4},
};

}  // namespace

absl::Status WriteCheckpoint(const std::string& path, const hnet::v1::Checkpoint& checkpoint) {
  std::string payload;
  if (!checkpoint.SerializeToString(&payload)) {
    return absl::InternalError(absl::StrCat("cannot serialize checkpoint for ", path));
  }
  std::string header(kMagic, sizeof(kMagic));
  const uint32_t version = kCheckpointFormatVersion;
  const uint32_t crc = Crc32(payload);
  const uint64_t length = payload.size();
  header.append(reinterpret_cast<const char*>(&version), 4);
  header.append(reinterpret_cast<const char*>(&crc), 4);
  header.append(reinterpret_cast<const char*>(&length), 8);

  const std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", tmp);
  absl::Status status = WriteAll(fd, header.data(), header.size(), tmp);
  if (status.ok()) status = WriteAll(fd, payload.data(), payload.size(), tmp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("cannot fsync", tmp);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus("cannot close", tmp);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("cannot rename onto", path);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::StatusOr<hnet::v1::Checkpoint> ReadCheckpoint(const std::string& path) {
  uint32_t crc;
  return ReadCheckpoint(path, &crc);
}

absl::StatusOr<hnet::v1::Checkpoint> ReadCheckpoint(const std::string& path,
                                                    uint32_t* payload_crc) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("checkpoint ", path, " cannot be opened"));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, ": ", why));
  };
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt("not an hnet checkpoint (bad magic or too short)");
  }
  uint32_t version, crc;
  uint64_t length;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&crc, bytes.data() + 12, 4);
  std::memcpy(&length, bytes.data() + 16, 8);
  if (version != kCheckpointFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint ", path, ": format version ", version,
                     " is not supported (this build reads version ", kCheckpointFormatVersion,
                     ")"));
  }
  if (bytes.size() - kHeaderSize != length) {
    return corrupt(absl::StrCat("truncated or padded: header says ", length,
                                " payload bytes, file has ", bytes.size() - kHeaderSize));
  }
  std::string payload = bytes.substr(kHeaderSize);
  if (Crc32(payload) != crc) return corrupt("checksum mismatch (file is corrupted)");
  hnet::v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(payload)) return corrupt("payload does not parse");
  if (checkpoint.format_version() != version) {
    return corrupt("payload format version disagrees with the header");
  }
  *payload_crc = crc;
  return checkpoint;
}

hnet::v1::TensorProto TensorToProto(const at::Tensor& tensor) {
  at::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
  hnet::v1::TensorProto proto;
  for (const DTypeInfo& info : kDTypes) {
    if (info.torch == t.scalar_type()) proto.set_dtype(info.proto);
  }
  TORCH_CHECK(proto.dtype() != hnet::v1::TensorProto::DTYPE_UNSPECIFIED,
              "TensorToProto: unsupported dtype ", t.scalar_type());
  for (int64_t s : t.sizes()) proto.add_shape(s);
  proto.set_data(static_cast<const char*>(t.data_ptr()), t.nbytes());
  return proto;
}

absl::StatusOr<at::Tensor> TensorFromProto(const hnet::v1::TensorProto& proto) {
  const DTypeInfo* info = nullptr;
  for (const DTypeInfo& candidate : kDTypes) {
    if (candidate.proto == proto.dtype()) info = &candidate;
  }
  if (info == nullptr) return absl::DataLossError("tensor: unknown dtype");
  std::vector<int64_t> shape(proto.shape().begin(), proto.shape().end());
  uint64_t count = 1;
  for (int64_t s : shape) {
    if (s < 0) return absl::DataLossError("tensor: negative dimension");
    count *= static_cast<uint64_t>(s);
  }
  if (count * info->bytes != proto.data().size()) {
    return absl::DataLossError(absl::StrCat("tensor: shape needs ", count * info->bytes,
                                            " bytes, data has ", proto.data().size()));
  }
  at::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(info->torch));
  if (!proto.data().empty()) std::memcpy(t.data_ptr(), proto.data().data(), proto.data().size());
  return t;
}

void AppendNamedTensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                        google::protobuf::RepeatedPtrField<hnet::v1::NamedTensor>* out) {
  for (const auto& [name, tensor] : tensors) {
    hnet::v1::NamedTensor* named = out->Add();
    named->set_name(name);
    *named->mutable_tensor() = TensorToProto(tensor);
  }
}

absl::StatusOr<std::vector<std::pair<std::string, at::Tensor>>> ReadNamedTensors(
    const google::protobuf::RepeatedPtrField<hnet::v1::NamedTensor>& in) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const hnet::v1::NamedTensor& named : in) {
    auto tensor = TensorFromProto(named.tensor());
    if (!tensor.ok()) {
      return absl::DataLossError(absl::StrCat("'", named.name(), "': ", tensor.status().message()));
    }
    out.emplace_back(named.name(), *tensor);
  }
  return out;
}

void SaveModule(const torch::nn::Module& module, hnet::v1::Checkpoint* checkpoint) {
  std::vector<std::pair<std::string, at::Tensor>> params, buffers;
  for (const auto& item : module.named_parameters()) params.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers()) buffers.emplace_back(item.key(), item.value());
  checkpoint->clear_parameters();
  checkpoint->clear_buffers();
  AppendNamedTensors(params, checkpoint->mutable_parameters());
  AppendNamedTensors(buffers, checkpoint->mutable_buffers());
}

absl::Status LoadModule(const hnet::v1::Checkpoint& checkpoint, torch::nn::Module* module) {
  auto params = ReadNamedTensors(checkpoint.parameters());
  if (!params.ok()) return params.status();
  auto buffers = ReadNamedTensors(checkpoint.buffers());
  if (!buffers.ok()) return buffers.status();
  std::map<std::string, at::Tensor> stored(params->begin(), params->end());
  for (auto& entry : *buffers) stored.insert(entry);

  std::vector<std::pair<at::Tensor, at::Tensor>> copies;  // (destination, source)
  auto match = [&](const std::string& name, const at::Tensor& dest) -> absl::Status {
    auto it = stored.find(name);
    if (it == stored.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "checkpoint does not match the model: '", name, "' is missing"));
    }
    if (it->second.sizes() != dest.sizes() || it->second.scalar_type() != dest.scalar_type()) {
      return absl::FailedPreconditionError(
          absl::StrCat("checkpoint does not match the model: '", name, "' has shape ",
                       c10::str(it->second.sizes()), ", model expects ", c10::str(dest.sizes())));
    }
    copies.emplace_back(dest, it->second);
    stored.erase(it);
    return absl::OkStatus();
  };
  for (const auto& item : module->named_parameters()) {
    if (auto s = match(item.key(), item.value()); !s.ok()) return s;
  }
  for (const auto& item : module->named_buffers()) {
    if (auto s = match(item.key(), item.value()); !s.ok()) return s;
  }
  if (!stored.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint does not match the model: unexpected tensor '", stored.begin()->first, "'"));
  }
  return TorchCall("loading checkpoint tensors", [&] {
    torch::NoGradGuard no_grad;
    for (auto& [dest, source] : copies) dest.copy_(source);
  });
}

}  // namespace hnet::core
