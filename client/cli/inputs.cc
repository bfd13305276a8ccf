#include "client/cli/inputs.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/idx.h"
#include "client/npy.h"
#include "io/file_io.h"

#ifdef HNET_CLI_HAVE_PNG
#include <png.h>
#endif

namespace hnet::cli {

using client::DType;
using client::Tensor;

namespace {

// `status` with its message prefixed by `flag`, its code kept.
absl::Status WithFlag(absl::string_view flag, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(flag, ": ", status.message()));
}

// The gunzipped `data` (one or more gzip members) of the file `path`; DATA_LOSS naming the
// path for truncated or corrupt data.
absl::StatusOr<std::string> Gunzip(absl::string_view data, const std::string& path) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError("zlib: inflateInit2 failed");
  }
  std::string out;
  std::vector<unsigned char> buffer(1 << 16);
  size_t given = 0;  // bytes of `data` handed to zlib so far
  absl::Status status;
  for (;;) {
    if (z.avail_in == 0 && given < data.size()) {
      const size_t chunk = std::min<size_t>(data.size() - given, size_t{1} << 30);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + given));
      z.avail_in = static_cast<uInt>(chunk);
      given += chunk;
    }
    z.next_out = buffer.data();
    z.avail_out = static_cast<uInt>(buffer.size());
    const int ret = inflate(&z, Z_NO_FLUSH);
    out.append(reinterpret_cast<const char*>(buffer.data()), buffer.size() - z.avail_out);
    const bool input_done = z.avail_in == 0 && given == data.size();
    if (ret == Z_STREAM_END) {
      // Another gzip member may follow (as gzip and gzread allow); other trailing bytes are
      // ignored, as gzread does.
      const absl::string_view rest = data.substr(given - z.avail_in);
      if (rest.size() < 2 || rest[0] != '\x1f' || rest[1] != '\x8b') break;
      inflateReset(&z);
      continue;
    }
    if ((ret == Z_OK && input_done && z.avail_out != 0) || (ret == Z_BUF_ERROR && input_done)) {
      status = absl::DataLossError(
          absl::StrCat("cannot read '", path, "': truncated gzip (the data ends early)"));
      break;
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      status = absl::DataLossError(absl::StrCat("cannot read '", path, "': corrupt gzip (",
                                                z.msg != nullptr ? z.msg : "zlib error", ")"));
      break;
    }
  }
  inflateEnd(&z);
  if (!status.ok()) return status;
  return out;
}

// A float64 tensor as float32 (values rounded to nearest).
Tensor ToFloat32(const Tensor& tensor) {
  Tensor converted;
  converted.dtype = DType::kFloat32;
  converted.shape = tensor.shape;
  const size_t count = tensor.bytes.size() / sizeof(double);
  converted.bytes.resize(count * sizeof(float));
  for (size_t i = 0; i < count; ++i) {
    double v = 0;
    std::memcpy(&v, tensor.bytes.data() + i * sizeof(double), sizeof(v));
    const float f = static_cast<float>(v);
    std::memcpy(converted.bytes.data() + i * sizeof(float), &f, sizeof(f));
  }
  return converted;
}

}  // namespace

absl::StatusOr<std::string> ReadMaybeGzip(const std::string& path) {
  // ReadFile maps errno: NOT_FOUND, PERMISSION_DENIED, INVALID_ARGUMENT for a directory.
  absl::StatusOr<std::string> raw = io::ReadFile(path);
  if (!raw.ok()) return raw.status();
  if (raw->size() < 2 || (*raw)[0] != '\x1f' || (*raw)[1] != '\x8b') return raw;
  return Gunzip(*raw, path);
}

absl::StatusOr<Tensor> LoadZ(const std::string& path) {
  absl::StatusOr<Tensor> z = client::ReadNpy(path);
  if (!z.ok()) return WithFlag("--z", z.status());
  const std::string want = "give float32 (or float64) noise vectors of shape [n, z_dim]";
  if (z->dtype == DType::kFloat64) {
    *z = ToFloat32(*z);
  } else if (z->dtype != DType::kFloat32) {
    return absl::InvalidArgumentError(
        absl::StrCat("--z: ", path, " holds ", client::DTypeName(z->dtype), "; ", want));
  }
  if (z->shape.size() == 1) z->shape.insert(z->shape.begin(), 1);  // one network
  if (z->shape.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("--z: ", path, " holds shape [",
                                                   absl::StrJoin(z->shape, ", "), "]; ", want,
                                                   " (or [z_dim] for one network)"));
  }
  if (z->shape[0] == 0 || z->shape[1] == 0) {
    return absl::InvalidArgumentError(absl::StrCat("--z: ", path, " is empty (shape [",
                                                   absl::StrJoin(z->shape, ", "), "]); ", want));
  }
  if (z->shape[0] > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--z: ", path, " holds ", z->shape[0], " vectors, more than 2^31 - 1"));
  }
  return z;
}

namespace {

// The IDX tensor in `path` (gzip or not); errors name `flag`.
absl::StatusOr<Tensor> ReadIdxMaybeGzip(absl::string_view flag, const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadMaybeGzip(path);
  if (!bytes.ok()) return WithFlag(flag, bytes.status());
  absl::StatusOr<Tensor> tensor = client::DecodeIdx(*bytes);
  if (!tensor.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", path, ": ", tensor.status().message()));
  }
  return tensor;
}

// Appends the 8-bit grayscale pixels of a PNG file to `pixels`; sets its size.
absl::Status AppendPng(const std::string& path, std::string* pixels, int64_t* height,
                       int64_t* width) {
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat("--images: no file '", path, "'"));
  }
#ifdef HNET_CLI_HAVE_PNG
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", image.message));
  }
  image.format = PNG_FORMAT_GRAY;
  std::string data(PNG_IMAGE_SIZE(image), '\0');
  if (!png_image_finish_read(&image, nullptr, data.data(), 0, nullptr)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", image.message));
  }
  *height = image.height;
  *width = image.width;
  pixels->append(data);
  return absl::OkStatus();
#else
  return absl::UnimplementedError(
      absl::StrCat(path, ": PNG input needs libpng, which this build of hnet lacks"));
#endif
}

}  // namespace

absl::StatusOr<Tensor> LoadImages(const std::vector<std::string>& paths) {
  if (paths.empty()) return absl::InvalidArgumentError("--images: no file given");
  if (paths.size() == 1 && !absl::EndsWithIgnoreCase(paths[0], ".png")) {
    absl::StatusOr<Tensor> images = ReadIdxMaybeGzip("--images", paths[0]);
    if (!images.ok()) return images.status();
    if (images->shape.size() != 3 && images->shape.size() != 4) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--images: ", paths[0], " holds an array of shape [", absl::StrJoin(images->shape, ", "),
          "], not images [N, H, W] or [N, C, H, W] (a labels file?)"));
    }
    if (images->dtype == DType::kFloat64) return ToFloat32(*images);
    if (images->dtype != DType::kUint8 && images->dtype != DType::kFloat32) {
      return absl::InvalidArgumentError(
          absl::StrCat("--images: ", paths[0], " holds ", client::DTypeName(images->dtype),
                       " pixels; give uint8, float32 or float64 images"));
    }
    return images;
  }
  for (const std::string& path : paths) {
    if (!absl::EndsWithIgnoreCase(path, ".png")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--images: give one IDX file or several .png files; ", path, " is not a .png"));
    }
  }
  Tensor images;
  images.dtype = DType::kUint8;
  int64_t height = 0, width = 0;
  for (const std::string& path : paths) {
    int64_t h = 0, w = 0;
    if (absl::Status s = AppendPng(path, &images.bytes, &h, &w); !s.ok()) return s;
    if (height != 0 && (h != height || w != width)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--images: ", path, " is ", h, "x", w, ", not ", height, "x", width));
    }
    height = h;
    width = w;
  }
  images.shape = {static_cast<int64_t>(paths.size()), height, width};
  return images;
}

absl::StatusOr<Tensor> LoadLabels(const std::string& path) {
  absl::StatusOr<Tensor> raw = ReadIdxMaybeGzip("--labels", path);
  if (!raw.ok()) return raw.status();
  if (raw->shape.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--labels: ", path, " is not 1-D"));
  }
  std::vector<int64_t> labels;
  if (raw->dtype == DType::kUint8) {
    for (char v : raw->bytes) labels.push_back(static_cast<uint8_t>(v));
  } else if (raw->dtype == DType::kInt32) {
    absl::StatusOr<std::vector<int32_t>> ints = client::ToVector<int32_t>(*raw);
    if (!ints.ok()) return ints.status();
    labels.assign(ints->begin(), ints->end());
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--labels: ", path, " holds ", client::DTypeName(raw->dtype)));
  }
  return *client::MakeTensor<int64_t>(labels);
}

Tensor Head(const Tensor& tensor, int64_t n) {
  if (n <= 0 || tensor.shape.empty() || n >= tensor.shape[0]) return tensor;
  Tensor head = tensor;
  const size_t row_bytes = tensor.bytes.size() / static_cast<size_t>(tensor.shape[0]);
  head.shape[0] = n;
  head.bytes.resize(static_cast<size_t>(n) * row_bytes);
  return head;
}

}  // namespace hnet::cli
