#include "client/cli/inputs.h"

#include <zlib.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/idx.h"

#ifdef HNET_CLI_HAVE_PNG
#include <png.h>
#endif

namespace hnet::cli {

using client::DType;
using client::Tensor;

absl::StatusOr<std::string> ReadMaybeGzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");  // reads plain files unchanged
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  std::string bytes;
  char buffer[1 << 16];
  int n = 0;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0) bytes.append(buffer, n);
  int error = Z_OK;
  const std::string message = n < 0 ? gzerror(file, &error) : "";
  gzclose(file);
  if (n < 0) return absl::DataLossError(absl::StrCat("cannot read '", path, "': ", message));
  return bytes;
}

namespace {

absl::StatusOr<Tensor> ReadIdxMaybeGzip(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadMaybeGzip(path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<Tensor> tensor = client::DecodeIdx(*bytes);
  if (!tensor.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", tensor.status().message()));
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
    absl::StatusOr<Tensor> images = ReadIdxMaybeGzip(paths[0]);
    if (images.ok() && images->shape.size() != 3 && images->shape.size() != 4) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--images: ", paths[0], " holds an array of shape [", absl::StrJoin(images->shape, ", "),
          "], not images [N, H, W] or [N, C, H, W] (a labels file?)"));
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
  absl::StatusOr<Tensor> raw = ReadIdxMaybeGzip(path);
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
