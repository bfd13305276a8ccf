#include "client/npy.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/internal/tensor_source.h"
#include "client/zip_writer.h"
#include "io/file_io.h"

namespace hnet::client {
namespace {

constexpr absl::string_view kMagic = "\x93NUMPY";

absl::string_view Descr(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "<f4";
    case DType::kFloat64:
      return "<f8";
    case DType::kInt64:
      return "<i8";
    case DType::kUint8:
      return "|u1";
    case DType::kInt32:
      return "<i4";
    default:
      return "";
  }
}

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("npy: ", what));
}

// The value after 'key': in a header dict: the text inside quotes or parentheses, or up to
// the next ',' or '}'. Empty when the key is missing.
absl::string_view ValueOf(absl::string_view header, absl::string_view key) {
  const std::string needle = absl::StrCat("'", key, "':");
  const size_t at = header.find(needle);
  if (at == absl::string_view::npos) return {};
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(header.substr(at + needle.size()));
  if (rest.empty()) return {};
  if (rest[0] == '\'' || rest[0] == '(') {
    const size_t end = rest.find(rest[0] == '(' ? ')' : '\'', 1);
    return end == absl::string_view::npos ? absl::string_view() : rest.substr(1, end - 1);
  }
  return absl::StripTrailingAsciiWhitespace(rest.substr(0, rest.find_first_of(",}")));
}

// The header of a .npy file of a `dtype` tensor of `shape` (both valid).
absl::StatusOr<std::string> NpyHeader(DType dtype, const std::vector<int64_t>& dims) {
  std::string shape = absl::StrJoin(dims, ", ");
  if (dims.size() == 1) shape += ",";
  std::string header = absl::StrCat("{'descr': '", Descr(dtype),
                                    "', 'fortran_order': False, 'shape': (", shape, "), }");
  const size_t unpadded = kMagic.size() + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  if (header.size() > 0xFFFF) return Bad("header too long for format 1.0");
  std::string out(kMagic);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xFF));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  return out;
}

}  // namespace

TensorSource SourceOf(const Tensor& tensor) {
  TensorSource source;
  source.dtype = tensor.dtype;
  source.shape = tensor.shape;
  source.produce = [&tensor](io::ByteSink sink) { return sink(tensor.bytes); };
  return source;
}

NamedTensorSources SourcesOf(const NamedTensors& tensors) {
  NamedTensorSources sources;
  sources.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) sources.emplace_back(name, SourceOf(tensor));
  return sources;
}

absl::StatusOr<std::string> EncodeNpyHeader(const Tensor& tensor) {
  if (absl::Status s = ValidateTensor(tensor, "tensor"); !s.ok()) return s;
  return NpyHeader(tensor.dtype, tensor.shape);
}

absl::StatusOr<std::string> EncodeNpy(const Tensor& tensor) {
  absl::StatusOr<std::string> out = EncodeNpyHeader(tensor);
  if (!out.ok()) return out.status();
  *out += tensor.bytes;
  return out;
}

absl::StatusOr<Tensor> DecodeNpy(absl::string_view bytes) {
  if (!absl::StartsWith(bytes, kMagic) || bytes.size() < 10) return Bad("not a .npy file");
  const auto u8 = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  const int major = u8(6);
  size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = u8(8) | (u8(9) << 8);
    start = 10;
  } else if ((major == 2 || major == 3) && bytes.size() >= 12) {
    header_len = u8(8) | (u8(9) << 8) | (u8(10) << 16) | (static_cast<size_t>(u8(11)) << 24);
    start = 12;
  } else {
    return Bad(absl::StrCat("unsupported format version ", major));
  }
  if (bytes.size() < start + header_len) return Bad("truncated header");
  const absl::string_view header = bytes.substr(start, header_len);
  const absl::string_view descr = ValueOf(header, "descr");
  Tensor tensor;
  for (DType d : {DType::kFloat32, DType::kFloat64, DType::kInt64, DType::kUint8, DType::kInt32}) {
    if (descr == Descr(d) || (d == DType::kUint8 && descr == "<u1")) tensor.dtype = d;
  }
  if (tensor.dtype == DType::kUnspecified) {
    return Bad(absl::StrCat("unsupported descr '", descr, "'"));
  }
  if (ValueOf(header, "fortran_order") != "False") return Bad("fortran_order arrays");
  for (absl::string_view dim :
       absl::StrSplit(ValueOf(header, "shape"), ',', absl::SkipWhitespace())) {
    int64_t d = 0;
    if (!absl::SimpleAtoi(dim, &d) || d < 0) {
      return Bad(absl::StrCat("bad shape entry '", dim, "'"));
    }
    tensor.shape.push_back(d);
  }
  tensor.bytes = std::string(bytes.substr(start + header_len));
  if (absl::Status s = ValidateTensor(tensor, "npy data"); !s.ok()) return s;
  return tensor;
}

namespace {

// A source checked for writing: its header, byte count and name in errors.
struct CheckedSource {
  std::string header;
  uint64_t size = 0;
  std::string field;
};

// `source` checked (errors name `field`), with its .npy header and byte count.
absl::StatusOr<CheckedSource> Check(std::string field, const TensorSource& source) {
  CheckedSource checked;
  checked.field = std::move(field);
  absl::StatusOr<uint64_t> size = internal::SourceBytes(source, checked.field);
  if (!size.ok()) return size.status();
  checked.size = *size;
  absl::StatusOr<std::string> header = NpyHeader(source.dtype, source.shape);
  if (!header.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(checked.field, ": ", header.status().message()));
  }
  checked.header = *std::move(header);
  return checked;
}

// The .npz entries of `tensors` added to `zip`: each "<name>.npy" is a header and the
// source's bytes; its CRC combines theirs.
absl::Status AddNpzEntries(const NamedTensorSources& tensors, ZipWriter* zip) {
  std::vector<CheckedSource> checked;
  for (const auto& [name, source] : tensors) {  // all checked before anything is written
    absl::StatusOr<CheckedSource> c = Check(absl::StrCat("tensors[", name, "]"), source);
    if (!c.ok()) return c.status();
    checked.push_back(*std::move(c));
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorSource& source = tensors[i].second;
    const CheckedSource& c = checked[i];
    absl::StatusOr<uint32_t> data_crc = internal::SourceCrc(source, c.size, c.field);
    if (!data_crc.ok()) return data_crc.status();
    const uint32_t crc = Crc32Combine(Crc32(c.header), *data_crc, c.size);
    absl::Status s = zip->AddProduced(
        absl::StrCat(tensors[i].first, ".npy"), c.header.size() + c.size, crc,
        [&](absl::FunctionRef<absl::Status(absl::string_view)> sink) {
          if (absl::Status s = sink(c.header); !s.ok()) return s;
          return internal::Produce(source, c.size, c.field, sink);
        },
        64);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteNpy(const std::string& path, const TensorSource& tensor) {
  absl::StatusOr<CheckedSource> checked = Check("tensor", tensor);
  if (!checked.ok()) return checked.status();
  return io::WriteFileFrom(path, [&](io::ByteSink sink) {
    if (absl::Status s = sink(checked->header); !s.ok()) return s;
    return internal::Produce(tensor, checked->size, checked->field, sink);
  });
}

absl::Status WriteNpz(const std::string& path, const NamedTensorSources& tensors) {
  return io::WriteFileFrom(path, [&](io::ByteSink sink) {
    ZipWriter zip([sink](absl::string_view bytes) { return sink(bytes); });
    if (absl::Status s = AddNpzEntries(tensors, &zip); !s.ok()) return s;
    return zip.Close();
  });
}

absl::StatusOr<std::string> EncodeNpz(const NamedTensors& tensors) {
  absl::StatusOr<NamedTensorSources> sources = internal::CheckedSourcesOf(tensors);
  if (!sources.ok()) return sources.status();
  ZipWriter zip;
  if (absl::Status s = AddNpzEntries(*sources, &zip); !s.ok()) return s;
  return zip.Finish();
}

absl::Status WriteNpy(const std::string& path, const Tensor& tensor) {
  absl::StatusOr<std::string> header = EncodeNpyHeader(tensor);
  if (!header.ok()) return header.status();
  return io::WriteFileFrom(path, [&](io::ByteSink sink) {
    if (absl::Status s = sink(*header); !s.ok()) return s;
    return sink(tensor.bytes);
  });
}

absl::Status WriteNpz(const std::string& path, const NamedTensors& tensors) {
  absl::StatusOr<NamedTensorSources> sources = internal::CheckedSourcesOf(tensors);
  if (!sources.ok()) return sources.status();
  return WriteNpz(path, *sources);
}

absl::StatusOr<Tensor> ReadNpy(const std::string& path) {
  absl::StatusOr<std::string> bytes = io::ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<Tensor> tensor = DecodeNpy(*bytes);
  if (!tensor.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", tensor.status().message()));
  }
  return tensor;
}

}  // namespace hnet::client
