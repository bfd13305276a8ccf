#include "client/pt_writer.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/internal/tensor_source.h"
#include "client/zip_writer.h"
#include "io/file_io.h"

namespace hnet::client {
namespace {

constexpr int kAlignment = 64;  // PyTorch aligns every record to 64 bytes

// Pickle protocol 2, just the opcodes torch.save's output uses.
class Pickler {
 public:
  void Begin() { out_ += "\x80\x02"; }
  void End() { out_ += '.'; }
  void Mark() { out_ += '('; }
  void EmptyDict() { out_ += '}'; }
  void EmptyTuple() { out_ += ')'; }
  void Tuple() { out_ += 't'; }
  void SetItems() { out_ += 'u'; }
  void Reduce() { out_ += 'R'; }
  void PersistentId() { out_ += 'Q'; }
  void False() { out_ += '\x89'; }
  void Global(absl::string_view module, absl::string_view name) {
    absl::StrAppend(&out_, "c", module, "\n", name, "\n");
  }
  void String(absl::string_view s) {
    out_ += 'X';
    Raw(s.size(), 4);
    out_.append(s.data(), s.size());
  }
  void Int(int64_t v) {
    if (v >= 0 && v < 256) {
      out_ += 'K';
      Raw(static_cast<uint64_t>(v), 1);
    } else if (v >= 0 && v < 65536) {
      out_ += 'M';
      Raw(static_cast<uint64_t>(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      out_ += 'J';
      Raw(static_cast<uint64_t>(v), 4);
    } else {
      out_ += "\x8a\x08";  // LONG1, 8 bytes two's complement
      Raw(static_cast<uint64_t>(v), 8);
    }
  }
  void IntTuple(const std::vector<int64_t>& values) {
    Mark();
    for (int64_t v : values) Int(v);
    Tuple();
  }
  std::string Take() { return std::move(out_); }

 private:
  void Raw(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
  std::string out_;
};

absl::string_view StorageType(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "FloatStorage";
    case DType::kFloat64:
      return "DoubleStorage";
    case DType::kInt64:
      return "LongStorage";
    case DType::kUint8:
      return "ByteStorage";
    case DType::kInt32:
      return "IntStorage";
    default:
      return "";
  }
}

// Contiguous (row-major) strides, as torch computes them (a 0 dimension counts as 1).
std::vector<int64_t> Strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) {
    strides[i - 1] = strides[i] * std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

// torch._utils._rebuild_tensor_v2(storage, 0, shape, strides, False, OrderedDict()) for a
// `dtype` tensor of `shape`.
void PickleTensor(DType dtype, const std::vector<int64_t>& shape, const std::string& key,
                  Pickler* p) {
  Tensor shape_only;
  shape_only.shape = shape;
  p->Global("torch._utils", "_rebuild_tensor_v2");
  p->Mark();
  p->Mark();  // persistent id: ('storage', torch.<Type>Storage, key, 'cpu', numel)
  p->String("storage");
  p->Global("torch", StorageType(dtype));
  p->String(key);
  p->String("cpu");
  p->Int(NumElements(shape_only));
  p->Tuple();
  p->PersistentId();
  p->Int(0);
  p->IntTuple(shape);
  p->IntTuple(Strides(shape));
  p->False();
  p->Global("collections", "OrderedDict");
  p->EmptyTuple();
  p->Reduce();
  p->Tuple();
  p->Reduce();
}

// The entries of a torch.save file of `tensors` added to `zip`, each storage produced in
// pieces.
absl::Status AddTorchSaveEntries(const NamedTensorSources& tensors, ZipWriter* zip) {
  Pickler pickler;
  pickler.Begin();
  pickler.EmptyDict();
  std::set<std::string> names;
  std::vector<uint64_t> sizes;
  if (!tensors.empty()) pickler.Mark();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, source] = tensors[i];
    const std::string field = absl::StrCat("tensors[", name, "]");
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": duplicate name"));
    }
    absl::StatusOr<uint64_t> size = internal::SourceBytes(source, field);
    if (!size.ok()) return size.status();
    sizes.push_back(*size);
    pickler.String(name);
    PickleTensor(source.dtype, source.shape, std::to_string(i), &pickler);
  }
  if (!tensors.empty()) pickler.SetItems();
  pickler.End();

  if (absl::Status s = zip->Add("archive/data.pkl", pickler.Take(), kAlignment); !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorSource& source = tensors[i].second;
    const std::string field = absl::StrCat("tensors[", tensors[i].first, "]");
    absl::StatusOr<uint32_t> crc = internal::SourceCrc(source, sizes[i], field);
    if (!crc.ok()) return crc.status();
    absl::Status s = zip->AddProduced(
        absl::StrCat("archive/data/", i), sizes[i], *crc,
        [&](absl::FunctionRef<absl::Status(absl::string_view)> sink) {
          return internal::Produce(source, sizes[i], field, sink);
        },
        kAlignment);
    if (!s.ok()) return s;
  }
  return zip->Add("archive/version", "3\n", kAlignment);
}

}  // namespace

absl::StatusOr<std::string> EncodeTorchSave(const NamedTensors& tensors) {
  absl::StatusOr<NamedTensorSources> sources = internal::CheckedSourcesOf(tensors);
  if (!sources.ok()) return sources.status();
  ZipWriter zip;
  if (absl::Status s = AddTorchSaveEntries(*sources, &zip); !s.ok()) return s;
  return zip.Finish();
}

absl::Status WriteTorchSave(const std::string& path, const NamedTensors& tensors) {
  absl::StatusOr<NamedTensorSources> sources = internal::CheckedSourcesOf(tensors);
  if (!sources.ok()) return sources.status();
  return WriteTorchSave(path, *sources);
}

absl::Status WriteTorchSave(const std::string& path, const NamedTensorSources& tensors) {
  return io::WriteFileFrom(path, [&](io::ByteSink sink) {
    ZipWriter zip([sink](absl::string_view bytes) { return sink(bytes); });
    if (absl::Status s = AddTorchSaveEntries(tensors, &zip); !s.ok()) return s;
    return zip.Close();
  });
}

}  // namespace hnet::client
