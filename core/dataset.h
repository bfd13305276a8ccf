// MNIST-family datasets read from IDX files (plain or gzip-compressed).
#ifndef HNET_CORE_DATASET_H_
#define HNET_CORE_DATASET_H_

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "hnet/v1/config.pb.h"

namespace hnet::core {

enum class DatasetKind { kMnist, kFashionMnist };

// Images as float32 [N, 1, H, W] with pixels in [0, 1], labels as int64 [N]. CPU tensors.
struct Split {
  at::Tensor images;
  at::Tensor labels;
  int64_t size() const;
};

struct MnistData {
  Split train;       // 55,000 for MNIST with the default validation size.
  Split validation;  // The first validation_size examples of the training file (as TF does).
  Split test;        // 10,000.
};

// Directory for datasets: $HNET_DATA_DIR if set, else "data". MNIST lives in <dir>/mnist,
// Fashion-MNIST in <dir>/fashion-mnist.
std::string DefaultDataDir();

// The most bytes an IDX file may hold once decompressed: 64 MiB, above the largest file of
// MNIST and Fashion-MNIST (train-images-idx3-ubyte, 47,040,016 bytes).
inline constexpr size_t kMaxIdxFileBytes = size_t{64} << 20;

// Reads an IDX3 uint8 image file (path or path + ".gz") into uint8 [N, H, W].
// Errors name the file: NotFound if missing, PermissionDenied if it may not be read (EACCES,
// EPERM), Unavailable for another failure to open it, DataLoss if truncated or malformed, or
// if it holds (decompressed) more than kMaxIdxFileBytes, found without decompressing further.
absl::StatusOr<at::Tensor> ReadIdxImages(const std::string& path);

// Reads an IDX1 uint8 label file (path or path + ".gz") into int64 [N]; errors as
// ReadIdxImages.
absl::StatusOr<at::Tensor> ReadIdxLabels(const std::string& path);

// Loads the four files of `kind` from its folder under data_dir, verifies their MD5 sums
// against the published ones, and splits train/validation/test. A file is decompressed no
// further than one byte past its published size (DataLoss naming it beyond that). Errors name
// the bad file and say how to fetch it (deploy/fetch_data.sh).
absl::StatusOr<MnistData> LoadMnist(const std::string& data_dir, DatasetKind kind,
                                    int validation_size = 5000);

// Only the test files of `kind` (verified like LoadMnist's), as float [N, 1, H, W] in [0, 1]:
// for evaluation, which never reads the training files.
absl::StatusOr<Split> LoadTestSplit(const std::string& data_dir, DatasetKind kind);

// The DatasetKind a config's dataset enum names (FASHION_MNIST, else MNIST).
DatasetKind KindOf(hnet::v1::DataConfig::Dataset dataset);

// LoadMnist for a config's data section (its dataset and validation size) from `data_dir`,
// or DefaultDataDir() when it is empty.
absl::StatusOr<MnistData> LoadConfiguredData(const hnet::v1::DataConfig& config,
                                             const std::string& data_dir);

// OK when `split`'s images are [N, C, H, W] with the input channels, height and width that
// `target` declares; else INVALID_ARGUMENT naming the target and both shapes.
absl::Status CheckImagesFit(const Split& split, const hnet::v1::TargetSpec& target);

}  // namespace hnet::core

#endif  // HNET_CORE_DATASET_H_
