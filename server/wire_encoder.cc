#include "server/wire_encoder.h"

#include <grpcpp/support/slice.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace hnet::server {
namespace {

using hnet::v1::LayerWeights;
using hnet::v1::SampleWeightsResponse;
using hnet::v1::TensorProto;

enum WireType : uint32_t { kVarint = 0, kLengthDelimited = 2 };

size_t VarintSize(uint64_t value) {
  size_t size = 1;
  for (; value >= 0x80; value >>= 7) ++size;
  return size;
}

size_t TagSize(int field) { return VarintSize(static_cast<uint64_t>(field) << 3); }

// Bytes of a length-delimited field `field` holding `length` bytes.
size_t FieldSize(int field, size_t length) { return TagSize(field) + VarintSize(length) + length; }

void AppendVarint(uint64_t value, std::string* out) {
  for (; value >= 0x80; value >>= 7) out->push_back(static_cast<char>(value | 0x80));
  out->push_back(static_cast<char>(value));
}

void AppendTag(int field, WireType type, std::string* out) {
  AppendVarint((static_cast<uint64_t>(field) << 3) | type, out);
}

// Owns one reference to the tensor a slice points into; gRPC drops it once the slice is freed.
void ReleaseTensor(void* tensor) { delete static_cast<at::Tensor*>(tensor); }

// Collects the message as slices: encoded bytes accumulate in a pending piece that becomes a
// slice of its own (a copy) just before each tensor slice (no copy) and at the end.
class SliceWriter {
 public:
  // Appends the tag and length of length-delimited field `field` of `length` bytes.
  void Header(int field, size_t length) {
    AppendTag(field, kLengthDelimited, &pending_);
    AppendVarint(length, &pending_);
  }
  void Bytes(absl::string_view bytes) { pending_.append(bytes.data(), bytes.size()); }
  // Appends the memory of `tensor` (CPU, contiguous), keeping the tensor alive.
  void Memory(const at::Tensor& tensor) {
    Flush();
    slices_.emplace_back(tensor.data_ptr(), tensor.nbytes(), &ReleaseTensor,
                         new at::Tensor(tensor));
  }
  grpc::ByteBuffer Finish() {
    Flush();
    return grpc::ByteBuffer(slices_.data(), slices_.size());
  }

 private:
  void Flush() {
    if (pending_.empty()) return;
    slices_.emplace_back(pending_);
    pending_.clear();
  }

  std::string pending_;
  std::vector<grpc::Slice> slices_;
};

// A TensorProto to write: its dtype and shape fields encoded, its data still in the tensor.
struct TensorPiece {
  at::Tensor data;     // float32, CPU, contiguous.
  std::string header;  // dtype (1) and packed shape (2), as protobuf writes them.
  size_t size = 0;     // Bytes of the whole TensorProto.
};

// `tensor` in contiguous host memory. From a CUDA device the copy lands in page-locked memory of
// LibTorch's caching host allocator (DMA at full speed, no pinning per call);
// the block returns to that cache when gRPC releases the last slice.
at::Tensor HostContiguous(const at::Tensor& tensor) {
  const at::Tensor t = tensor.detach();
  if (!t.is_cuda()) return t.to(torch::kCPU).contiguous();
  at::Tensor host = at::empty(t.sizes(), t.options().device(torch::kCPU).pinned_memory(true));
  host.copy_(t);
  return host;
}

TensorPiece Prepare(const at::Tensor& tensor) {
  TensorPiece piece;
  piece.data = HostContiguous(tensor);
  TORCH_CHECK(piece.data.scalar_type() == torch::kFloat32,
              "EncodeSampleResponse: expected float32, got ", piece.data.scalar_type());
  AppendTag(TensorProto::kDtypeFieldNumber, kVarint, &piece.header);
  AppendVarint(TensorProto::FLOAT32, &piece.header);
  if (piece.data.dim() > 0) {  // Packed repeated int64: one length, then the varints.
    std::string shape;
    for (int64_t s : piece.data.sizes()) AppendVarint(static_cast<uint64_t>(s), &shape);
    AppendTag(TensorProto::kShapeFieldNumber, kLengthDelimited, &piece.header);
    AppendVarint(shape.size(), &piece.header);
    piece.header += shape;
  }
  const size_t bytes = piece.data.nbytes();
  piece.size =
      piece.header.size() + (bytes == 0 ? 0 : FieldSize(TensorProto::kDataFieldNumber, bytes));
  return piece;
}

// Field `field` holding the TensorProto `piece`.
void WriteTensor(int field, const TensorPiece& piece, SliceWriter* writer) {
  writer->Header(field, piece.size);
  writer->Bytes(piece.header);
  if (piece.data.nbytes() == 0) return;  // proto3 leaves empty bytes out.
  writer->Header(TensorProto::kDataFieldNumber, piece.data.nbytes());
  writer->Memory(piece.data);
}

}  // namespace

grpc::ByteBuffer EncodeSampleResponse(const LoadedModel& model, const core::WeightBatch& weights,
                                      const at::Tensor& z, bool return_z,
                                      const hnet::v1::ModelVersion& version) {
  TORCH_CHECK(weights.size() <= model.layer_names.size(),
              "EncodeSampleResponse: more layers than the model names");
  SliceWriter writer;
  if (return_z) WriteTensor(SampleWeightsResponse::kZFieldNumber, Prepare(z), &writer);
  for (size_t l = 0; l < weights.size(); ++l) {
    const std::string& name = model.layer_names[l];
    const TensorPiece piece = Prepare(weights[l].to(torch::kFloat32));
    const size_t name_size =
        name.empty() ? 0 : FieldSize(LayerWeights::kNameFieldNumber, name.size());
    writer.Header(SampleWeightsResponse::kLayersFieldNumber,
                  name_size + FieldSize(LayerWeights::kWeightsFieldNumber, piece.size));
    if (!name.empty()) {
      writer.Header(LayerWeights::kNameFieldNumber, name.size());
      writer.Bytes(name);
    }
    WriteTensor(LayerWeights::kWeightsFieldNumber, piece, &writer);
  }
  // A message of its own, so protobuf encodes it (and any field it gains later).
  const std::string encoded_version = version.SerializeAsString();
  writer.Header(SampleWeightsResponse::kModelFieldNumber, encoded_version.size());
  writer.Bytes(encoded_version);
  return writer.Finish();
}

}  // namespace hnet::server
