#include "core/dataset.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/md5.h"
#include "core/torch_status.h"

namespace hnet::core {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // uint8 data, 3 dimensions.
constexpr uint32_t kLabelsMagic = 0x00000801;  // uint8 data, 1 dimension.
constexpr size_t kImagesHeaderBytes = 16;
constexpr size_t kLabelsHeaderBytes = 8;
constexpr char kFetchHint[] = "run deploy/fetch_data.sh or set HNET_DATA_DIR";

// The decompressed contents of an IDX file and the path it was actually read from.
struct RawFile {
  std::string path;
  std::string bytes;
};

// Reads `path`, or `path`.gz when `path` is missing, fully decompressed (gzread passes plain
// files through). NotFound when neither exists; PermissionDenied when it may not be opened
// (EACCES, EPERM), Unavailable for another failure to open it; DataLoss on a corrupt or
// truncated gzip stream, and as soon as the contents pass `max_bytes` (a gzip bomb never gets
// more memory than that).
absl::StatusOr<RawFile> ReadRaw(const std::string& path, size_t max_bytes) {
  RawFile raw;
  std::error_code ec;
  for (const std::string& candidate : {path, path + ".gz"}) {
    if (std::filesystem::is_regular_file(candidate, ec)) {
      raw.path = candidate;
      break;
    }
  }
  if (raw.path.empty()) {
    return absl::NotFoundError(
        absl::StrCat("IDX file not found: ", path, " (nor ", path, ".gz); ", kFetchHint));
  }
  errno = 0;
  gzFile file = gzopen(raw.path.c_str(), "rb");
  if (file == nullptr) {
    const int err = errno;
    const std::string message =
        absl::StrCat("cannot open ", raw.path, ": ", err != 0 ? std::strerror(err) : "zlib error");
    switch (err) {
      case ENOENT:  // Removed since it was found.
        return absl::NotFoundError(absl::StrCat(message, "; ", kFetchHint));
      case EACCES:
      case EPERM:
        return absl::PermissionDeniedError(message);
      default:
        return absl::UnavailableError(message);
    }
  }
  gzbuffer(file, 1 << 17);
  constexpr size_t kChunk = 1 << 20;
  for (;;) {
    const size_t old_size = raw.bytes.size();
    if (old_size > max_bytes) {
      gzclose_r(file);
      return absl::DataLossError(absl::StrCat("IDX file ", raw.path, " is too large: more than ",
                                              max_bytes, " bytes (decompressed)"));
    }
    // At most one byte past the limit is ever read.
    const size_t chunk = std::min(kChunk, max_bytes + 1 - old_size);
    raw.bytes.resize(old_size + chunk);
    const int got = gzread(file, raw.bytes.data() + old_size, static_cast<unsigned>(chunk));
    if (got < 0) {
      int errnum = 0;
      std::string message = gzerror(file, &errnum);
      gzclose_r(file);
      return absl::DataLossError(absl::StrCat("error reading ", raw.path, ": ", message));
    }
    raw.bytes.resize(old_size + static_cast<size_t>(got));
    if (got == 0) break;
  }
  // A gzip stream cut short reads as a short file with Z_BUF_ERROR pending.
  int errnum = Z_OK;
  std::string message = gzerror(file, &errnum);
  const int close_result = gzclose_r(file);
  if (errnum != Z_OK || close_result != Z_OK) {
    return absl::DataLossError(absl::StrCat(
        "error reading ", raw.path, ": ",
        errnum != Z_OK ? message : "gzip stream ended unexpectedly (truncated file?)"));
  }
  return raw;
}

uint32_t ReadBigEndian32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
}

// Checks the magic number (data type and rank), then that the whole header is there.
absl::Status CheckHeader(const RawFile& raw, uint32_t expected_magic, size_t header_bytes) {
  if (raw.bytes.size() >= 4) {
    const uint32_t magic = ReadBigEndian32(raw.bytes, 0);
    if (magic != expected_magic) {
      return absl::DataLossError(absl::StrCat("IDX file ", raw.path, " has magic 0x",
                                              absl::Hex(magic, absl::kZeroPad8), ", expected 0x",
                                              absl::Hex(expected_magic, absl::kZeroPad8)));
    }
  }
  if (raw.bytes.size() < header_bytes) {
    return absl::DataLossError(
        absl::StrCat("IDX file ", raw.path, " is truncated: ", raw.bytes.size(),
                     " bytes, shorter than its ", header_bytes, "-byte header"));
  }
  return absl::OkStatus();
}

// The payload must hold exactly `count` records of `record_bytes` bytes each.
absl::Status CheckPayload(const RawFile& raw, size_t header_bytes, uint64_t count,
                          uint64_t record_bytes) {
  const uint64_t payload = raw.bytes.size() - header_bytes;
  // Division avoids overflowing count * record_bytes on a corrupt header.
  if (payload % record_bytes != 0 || payload / record_bytes != count) {
    const char* what = payload / record_bytes < count ? "truncated" : "longer than its header says";
    return absl::DataLossError(absl::StrCat(
        "IDX file ", raw.path, " is ", what, ": header declares ", count, " records of ",
        record_bytes, " bytes but ", payload, " payload bytes follow"));
  }
  return absl::OkStatus();
}

// Parses an IDX3 uint8 image file into uint8 [N, H, W].
absl::StatusOr<at::Tensor> ParseImages(const RawFile& raw) {
  if (absl::Status s = CheckHeader(raw, kImagesMagic, kImagesHeaderBytes); !s.ok()) return s;
  const uint32_t count = ReadBigEndian32(raw.bytes, 4);
  const uint32_t rows = ReadBigEndian32(raw.bytes, 8);
  const uint32_t cols = ReadBigEndian32(raw.bytes, 12);
  if (rows == 0 || cols == 0) {
    return absl::DataLossError(
        absl::StrCat("IDX file ", raw.path, " has empty image dims ", rows, "x", cols));
  }
  if (absl::Status s =
          CheckPayload(raw, kImagesHeaderBytes, count, static_cast<uint64_t>(rows) * cols);
      !s.ok()) {
    return s;
  }
  return TorchCall(absl::StrCat("reading images from ", raw.path), [&] {
    at::Tensor images = torch::empty(
        {static_cast<int64_t>(count), static_cast<int64_t>(rows), static_cast<int64_t>(cols)},
        torch::kUInt8);
    if (images.numel() > 0) {  // An empty tensor's data pointer may be null.
      std::memcpy(images.data_ptr<uint8_t>(), raw.bytes.data() + kImagesHeaderBytes,
                  raw.bytes.size() - kImagesHeaderBytes);
    }
    return images;
  });
}

// Parses an IDX1 uint8 label file into int64 [N].
absl::StatusOr<at::Tensor> ParseLabels(const RawFile& raw) {
  if (absl::Status s = CheckHeader(raw, kLabelsMagic, kLabelsHeaderBytes); !s.ok()) return s;
  const uint32_t count = ReadBigEndian32(raw.bytes, 4);
  if (absl::Status s = CheckPayload(raw, kLabelsHeaderBytes, count, 1); !s.ok()) return s;
  return TorchCall(absl::StrCat("reading labels from ", raw.path), [&] {
    at::Tensor labels = torch::empty({static_cast<int64_t>(count)}, torch::kUInt8);
    if (count > 0) {  // An empty tensor's data pointer may be null.
      std::memcpy(labels.data_ptr<uint8_t>(), raw.bytes.data() + kLabelsHeaderBytes, count);
    }
    return labels.to(torch::kInt64);
  });
}

// One file of a dataset: its name, the MD5 and the size of its decompressed bytes.
struct KnownFile {
  const char* name;
  const char* md5;
  size_t size;
};

struct DatasetFiles {
  const char* folder;
  KnownFile train_images, train_labels, test_images, test_labels;
};

constexpr DatasetFiles kMnistFiles = {
    "mnist",
    {"train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb", 47040016},
    {"train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624", 60008},
    {"t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea", 7840016},
    {"t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637", 10008},
};

constexpr DatasetFiles kFashionMnistFiles = {
    "fashion-mnist",
    {"train-images-idx3-ubyte", "f4a8712d7a061bf5bd6d2ca38dc4d50a", 47040016},
    {"train-labels-idx1-ubyte", "9018921c3c673c538a1fc5bad174d6f9", 60008},
    {"t10k-images-idx3-ubyte", "8181f5470baa50b63fa0f6fddb340f0a", 7840016},
    {"t10k-labels-idx1-ubyte", "15d484375f8d13e6eb1aabb0c3f46965", 10008},
};

// Reads dir/file, no more than its known size, and checks the MD5 of its decompressed bytes.
absl::StatusOr<RawFile> ReadVerified(const std::string& dir, const KnownFile& file,
                                     const std::string& data_dir) {
  absl::StatusOr<RawFile> raw = ReadRaw(absl::StrCat(dir, "/", file.name), file.size);
  if (!raw.ok()) return raw.status();
  const std::string actual = Md5Hex(raw->bytes);
  if (actual != file.md5) {
    return absl::DataLossError(
        absl::StrCat("MD5 mismatch for ", raw->path, " (decompressed): expected ", file.md5,
                     ", got ", actual, "; re-fetch it with deploy/fetch_data.sh ", data_dir));
  }
  return raw;
}

// Images and labels of one file pair, checked to have the same count.
absl::StatusOr<Split> LoadPair(const std::string& dir, const KnownFile& images_file,
                               const KnownFile& labels_file, const std::string& data_dir) {
  Split split;
  {  // Scoped so that the raw bytes are freed before the next file is read.
    absl::StatusOr<RawFile> raw = ReadVerified(dir, images_file, data_dir);
    if (!raw.ok()) return raw.status();
    absl::StatusOr<at::Tensor> images = ParseImages(*raw);
    if (!images.ok()) return images.status();
    split.images = *std::move(images);
  }
  absl::StatusOr<RawFile> raw = ReadVerified(dir, labels_file, data_dir);
  if (!raw.ok()) return raw.status();
  absl::StatusOr<at::Tensor> labels = ParseLabels(*raw);
  if (!labels.ok()) return labels.status();
  split.labels = *std::move(labels);
  if (split.labels.size(0) != split.images.size(0)) {
    return absl::DataLossError(
        absl::StrCat(dir, "/", labels_file.name, " has ", split.labels.size(0), " labels but ", dir,
                     "/", images_file.name, " has ", split.images.size(0), " images"));
  }
  return split;
}

// uint8 images [N, H, W] -> float32 [N, 1, H, W] in [0, 1].
at::Tensor ToUnitFloat(const at::Tensor& images) {
  return images.to(torch::kFloat32).div_(255.0f).unsqueeze(1);
}

const DatasetFiles& FilesOf(DatasetKind kind) {
  return kind == DatasetKind::kMnist ? kMnistFiles : kFashionMnistFiles;
}

}  // namespace

int64_t Split::size() const { return labels.defined() ? labels.size(0) : 0; }

std::string DefaultDataDir() {
  const char* dir = std::getenv("HNET_DATA_DIR");
  return dir != nullptr && dir[0] != '\0' ? std::string(dir) : std::string("data");
}

absl::StatusOr<at::Tensor> ReadIdxImages(const std::string& path) {
  absl::StatusOr<RawFile> raw = ReadRaw(path, kMaxIdxFileBytes);
  if (!raw.ok()) return raw.status();
  return ParseImages(*raw);
}

absl::StatusOr<at::Tensor> ReadIdxLabels(const std::string& path) {
  absl::StatusOr<RawFile> raw = ReadRaw(path, kMaxIdxFileBytes);
  if (!raw.ok()) return raw.status();
  return ParseLabels(*raw);
}

absl::StatusOr<Split> LoadTestSplit(const std::string& data_dir, DatasetKind kind) {
  const DatasetFiles& files = FilesOf(kind);
  const std::string dir = absl::StrCat(data_dir, "/", files.folder);
  absl::StatusOr<Split> test = LoadPair(dir, files.test_images, files.test_labels, data_dir);
  if (!test.ok()) return test.status();
  return TorchCall(absl::StrCat("converting ", dir), [&] {
    Split out;
    out.images = ToUnitFloat(test->images);
    out.labels = test->labels;
    return out;
  });
}

absl::StatusOr<MnistData> LoadMnist(const std::string& data_dir, DatasetKind kind,
                                    int validation_size) {
  if (validation_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("validation_size must be non-negative, got ", validation_size));
  }
  const DatasetFiles& files = FilesOf(kind);
  const std::string dir = absl::StrCat(data_dir, "/", files.folder);

  absl::StatusOr<Split> train = LoadPair(dir, files.train_images, files.train_labels, data_dir);
  if (!train.ok()) return train.status();
  const int64_t train_count = train->size();
  if (validation_size >= train_count) {
    return absl::InvalidArgumentError(
        absl::StrCat("validation_size ", validation_size, " must be below the ", train_count,
                     " examples of ", dir, "/", files.train_images.name));
  }
  absl::StatusOr<Split> test = LoadPair(dir, files.test_images, files.test_labels, data_dir);
  if (!test.ok()) return test.status();

  absl::StatusOr<MnistData> data = TorchCall(absl::StrCat("splitting ", dir), [&] {
    const at::Tensor train_images = ToUnitFloat(train->images);
    MnistData out;
    out.validation.images = train_images.narrow(0, 0, validation_size).clone();
    out.validation.labels = train->labels.narrow(0, 0, validation_size).clone();
    out.train.images =
        train_images.narrow(0, validation_size, train_count - validation_size).clone();
    out.train.labels =
        train->labels.narrow(0, validation_size, train_count - validation_size).clone();
    out.test.images = ToUnitFloat(test->images);
    out.test.labels = test->labels;
    return out;
  });
  if (data.ok()) {
    log::Debug("loaded {}: train {}, validation {}, test {}", dir, data->train.size(),
               data->validation.size(), data->test.size());
  }
  return data;
}

DatasetKind KindOf(hnet::v1::DataConfig::Dataset dataset) {
  return dataset == hnet::v1::DataConfig::FASHION_MNIST ? DatasetKind::kFashionMnist
                                                        : DatasetKind::kMnist;
}

absl::StatusOr<MnistData> LoadConfiguredData(const hnet::v1::DataConfig& config,
                                             const std::string& data_dir) {
  return LoadMnist(data_dir.empty() ? DefaultDataDir() : data_dir, KindOf(config.dataset()),
                   config.validation_size());
}

absl::Status CheckImagesFit(const Split& split, const hnet::v1::TargetSpec& target) {
  const auto sizes = split.images.sizes();
  if (sizes.size() == 4 && sizes[1] == target.input_channels() &&
      sizes[2] == target.input_height() && sizes[3] == target.input_width()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("target '", target.name(), "' expects inputs ", target.input_channels(), "x",
                   target.input_height(), "x", target.input_width(), ", the dataset has ",
                   c10::str(sizes.slice(std::min<size_t>(1, sizes.size())))));
}

}  // namespace hnet::core
