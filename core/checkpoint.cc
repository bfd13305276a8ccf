#include "core/checkpoint.h"

#include <torch/torch.h>

#include <cstring>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/container.h"
#include "core/torch_status.h"

namespace hnet::core {
namespace {

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
  return WriteContainerFile(path, kCheckpointContainer, kCheckpointFormatVersion, payload);
}

absl::StatusOr<hnet::v1::Checkpoint> ReadCheckpoint(const std::string& path) {
  uint32_t crc;
  return ReadCheckpoint(path, &crc);
}

absl::StatusOr<hnet::v1::Checkpoint> ReadCheckpoint(const std::string& path,
                                                    uint32_t* payload_crc) {
  auto payload =
      ReadContainerFile(path, kCheckpointContainer, kCheckpointFormatVersion, payload_crc);
  if (!payload.ok()) return payload.status();
  auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, ": ", why));
  };
  hnet::v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(*payload)) return corrupt("payload does not parse");
  if (checkpoint.format_version() != kCheckpointFormatVersion) {
    return corrupt("payload format version disagrees with the header");
  }
  if (checkpoint.step() < 0) {
    return corrupt(absl::StrCat("step ", checkpoint.step(), " is negative"));
  }
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
  uint64_t bytes = info->bytes;
  for (int64_t s : shape) {
    if (s < 0) return absl::DataLossError("tensor: negative dimension");
  }
  for (int64_t s : shape) {
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(s), &bytes)) {
      return absl::DataLossError(absl::StrCat("tensor: shape [", absl::StrJoin(shape, ", "),
                                              "] is too large (its byte count overflows 64 bits)"));
    }
  }
  if (bytes != proto.data().size()) {
    return absl::DataLossError(
        absl::StrCat("tensor: shape needs ", bytes, " bytes, data has ", proto.data().size()));
  }
  return TorchCall("tensor", [&] {
    at::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(info->torch));
    if (!proto.data().empty()) std::memcpy(t.data_ptr(), proto.data().data(), proto.data().size());
    return t;
  });
}

void AppendNamedTensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                        google::protobuf::RepeatedPtrField<hnet::v1::NamedTensor>* out) {
  for (const auto& [name, tensor] : tensors) {
    hnet::v1::NamedTensor* named = out->Add();
    named->set_name(name);
    *named->mutable_tensor() = TensorToProto(tensor);
  }
}

absl::Status CheckFinite(const at::Tensor& tensor) {
  return TorchCall("checking tensor values", [&]() -> absl::Status {
    if (!tensor.is_floating_point() || tensor.numel() == 0) return absl::OkStatus();
    if (torch::isfinite(tensor).all().item<bool>()) return absl::OkStatus();
    const int64_t nan = torch::isnan(tensor).sum().item<int64_t>();
    const int64_t inf = torch::isinf(tensor).sum().item<int64_t>();
    return absl::DataLossError(
        absl::StrCat("holds non-finite values (", nan, " NaN, ", inf, " infinite)"));
  });
}

absl::StatusOr<std::vector<std::pair<std::string, at::Tensor>>> ReadNamedTensors(
    const google::protobuf::RepeatedPtrField<hnet::v1::NamedTensor>& in) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  std::set<std::string> names;
  for (const hnet::v1::NamedTensor& named : in) {
    if (!names.insert(named.name()).second) {
      return absl::DataLossError(absl::StrCat("tensor '", named.name(), "' appears twice"));
    }
    auto tensor = TensorFromProto(named.tensor());
    if (!tensor.ok()) {
      return absl::DataLossError(absl::StrCat("'", named.name(), "': ", tensor.status().message()));
    }
    if (absl::Status s = CheckFinite(*tensor); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("tensor '", named.name(), "' ", s.message()));
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
  for (auto& entry : *buffers) {
    if (!stored.insert(entry).second) {
      return absl::DataLossError(
          absl::StrCat("tensor '", entry.first, "' is both a parameter and a buffer"));
    }
  }

  std::vector<std::pair<at::Tensor, at::Tensor>> copies;  // (destination, source)
  auto match = [&](const std::string& name, const at::Tensor& dest) -> absl::Status {
    auto it = stored.find(name);
    if (it == stored.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("checkpoint does not match the model: '", name, "' is missing"));
    }
    if (it->second.sizes() != dest.sizes() || it->second.scalar_type() != dest.scalar_type()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "checkpoint does not match the model: '", name, "' has shape ",
          c10::str(it->second.sizes()), " ", c10::toString(it->second.scalar_type()),
          ", model expects ", c10::str(dest.sizes()), " ", c10::toString(dest.scalar_type())));
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
