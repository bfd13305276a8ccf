#include "core/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/md5.h"
#include "tests/as_nobody.h"
#include "tests/memory_limit.h"

namespace hnet::core {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

void AppendBigEndian32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

// An IDX3 image file with n images of rows x cols whose pixel k (flat index) is k % 251.
std::string ImagesIdx(uint32_t n, uint32_t rows, uint32_t cols, uint32_t magic = 0x803) {
  std::string out;
  AppendBigEndian32(out, magic);
  AppendBigEndian32(out, n);
  AppendBigEndian32(out, rows);
  AppendBigEndian32(out, cols);
  for (uint64_t k = 0; k < uint64_t{n} * rows * cols; ++k)
    out.push_back(static_cast<char>(k % 251));
  return out;
}

std::string LabelsIdx(const std::vector<uint8_t>& labels, uint32_t magic = 0x801) {
  std::string out;
  AppendBigEndian32(out, magic);
  AppendBigEndian32(out, static_cast<uint32_t>(labels.size()));
  for (uint8_t label : labels) out.push_back(static_cast<char>(label));
  return out;
}

void WritePlain(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

void WriteGzip(const fs::path& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(file), Z_OK);
}

// A gzip stream of `size` zero bytes: a "gzip bomb", some hundred times smaller than what it
// decompresses to.
void WriteGzipOfZeros(const fs::path& path, size_t size) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  const std::string zeros(size_t{1} << 20, '\0');
  for (size_t left = size; left > 0;) {
    const unsigned piece = static_cast<unsigned>(std::min(left, zeros.size()));
    ASSERT_EQ(gzwrite(file, zeros.data(), piece), static_cast<int>(piece));
    left -= piece;
  }
  ASSERT_EQ(gzclose(file), Z_OK);
}

std::string ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A fresh directory under the test temp dir, removed at the end of each test.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "hnet_dataset_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

using IdxReader = TempDirTest;

TEST_F(IdxReader, ReadsPlainImageFile) {
  const fs::path path = dir_ / "images-idx3-ubyte";
  WritePlain(path, ImagesIdx(3, 4, 5));
  absl::StatusOr<at::Tensor> images = ReadIdxImages(path.string());
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->sizes(), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(images->scalar_type(), torch::kUInt8);
  at::Tensor expected = torch::arange(60, torch::kInt64).remainder(251).to(torch::kUInt8);
  EXPECT_TRUE(torch::equal(images->reshape({-1}), expected));
}

TEST_F(IdxReader, FallsBackToGzipWithGzSuffix) {
  const fs::path path = dir_ / "images-idx3-ubyte";
  WriteGzip(path.string() + ".gz", ImagesIdx(2, 28, 28));
  absl::StatusOr<at::Tensor> images = ReadIdxImages(path.string());
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->sizes(), (std::vector<int64_t>{2, 28, 28}));
  EXPECT_EQ(images->reshape({-1})[300].item<int64_t>(), 300 % 251);
}

TEST_F(IdxReader, ReadsGzipContentUnderPlainName) {
  const fs::path path = dir_ / "labels-idx1-ubyte";
  WriteGzip(path, LabelsIdx({1, 2, 3}));
  absl::StatusOr<at::Tensor> labels = ReadIdxLabels(path.string());
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_TRUE(torch::equal(*labels, torch::tensor({1, 2, 3}, torch::kInt64)));
}

TEST_F(IdxReader, PrefersPlainFileOverGz) {
  const fs::path path = dir_ / "labels-idx1-ubyte";
  WritePlain(path, LabelsIdx({7}));
  WriteGzip(path.string() + ".gz", LabelsIdx({1, 2}));
  absl::StatusOr<at::Tensor> labels = ReadIdxLabels(path.string());
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_TRUE(torch::equal(*labels, torch::tensor({7}, torch::kInt64)));
}

TEST_F(IdxReader, ReadsLabelsAsInt64FromPlainAndGzip) {
  const std::vector<uint8_t> values = {0, 9, 255, 4};
  WritePlain(dir_ / "plain", LabelsIdx(values));
  WriteGzip(dir_ / "zipped.gz", LabelsIdx(values));
  for (const char* name : {"plain", "zipped"}) {
    absl::StatusOr<at::Tensor> labels = ReadIdxLabels((dir_ / name).string());
    ASSERT_TRUE(labels.ok()) << labels.status();
    EXPECT_EQ(labels->scalar_type(), torch::kInt64);
    EXPECT_TRUE(torch::equal(*labels, torch::tensor({0, 9, 255, 4}, torch::kInt64))) << name;
  }
}

TEST_F(IdxReader, ReadsEmptyFile) {
  WritePlain(dir_ / "empty", ImagesIdx(0, 28, 28));
  absl::StatusOr<at::Tensor> images = ReadIdxImages((dir_ / "empty").string());
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->sizes(), (std::vector<int64_t>{0, 28, 28}));
  WriteGzip(dir_ / "empty-labels.gz", LabelsIdx({}));
  absl::StatusOr<at::Tensor> labels = ReadIdxLabels((dir_ / "empty-labels").string());
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(labels->numel(), 0);
}

TEST_F(IdxReader, MissingFileIsNotFoundNamingPathAndFetchScript) {
  const std::string path = (dir_ / "nope-idx3-ubyte").string();
  absl::StatusOr<at::Tensor> images = ReadIdxImages(path);
  EXPECT_EQ(images.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(images.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(images.status().message()), HasSubstr("deploy/fetch_data.sh"));
  EXPECT_THAT(std::string(images.status().message()), HasSubstr("HNET_DATA_DIR"));
  EXPECT_EQ(ReadIdxLabels(path).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(IdxReader, UnreadableFileIsPermissionDeniedNamingIt) {
  const fs::path path = dir_ / "images-idx3-ubyte";
  WritePlain(path, ImagesIdx(1, 2, 2));
  fs::permissions(dir_, fs::perms::all);  // Traversable by anyone: only the file is closed.
  fs::permissions(path, fs::perms::none);
  auto permission_denied = [&] {
    const absl::Status status = ReadIdxImages(path.string()).status();
    const bool ok = status.code() == absl::StatusCode::kPermissionDenied &&
                    status.message().find(path.string()) != absl::string_view::npos;
    if (!ok) std::fprintf(stderr, "unexpected: %s\n", status.ToString().c_str());
    return ok;
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(permission_denied());
    return;
  }
  // Root reads any file: read it as "nobody".
  const hnet::testing::AsNobody result = hnet::testing::RunAsNobody(permission_denied);
  if (result == hnet::testing::AsNobody::kUnavailable) GTEST_SKIP() << "cannot become nobody";
  EXPECT_EQ(result, hnet::testing::AsNobody::kPassed) << "not PERMISSION_DENIED naming the file";
}

TEST_F(IdxReader, RejectsTruncatedFile) {
  const fs::path path = dir_ / "images";
  std::string bytes = ImagesIdx(3, 4, 5);
  bytes.pop_back();
  WritePlain(path, bytes);
  absl::StatusOr<at::Tensor> images = ReadIdxImages(path.string());
  EXPECT_EQ(images.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(images.status().message()), HasSubstr(path.string()));
  EXPECT_THAT(std::string(images.status().message()), HasSubstr("truncated"));
}

TEST_F(IdxReader, RejectsTruncatedLabelFile) {
  const fs::path path = dir_ / "labels";
  std::string bytes = LabelsIdx({1, 2, 3});
  bytes.pop_back();
  WritePlain(path, bytes);
  absl::StatusOr<at::Tensor> labels = ReadIdxLabels(path.string());
  EXPECT_EQ(labels.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(labels.status().message()), HasSubstr(path.string()));
}

TEST_F(IdxReader, RejectsFileShorterThanHeader) {
  const fs::path path = dir_ / "images";
  WritePlain(path, ImagesIdx(3, 4, 5).substr(0, 10));
  absl::StatusOr<at::Tensor> images = ReadIdxImages(path.string());
  EXPECT_EQ(images.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(images.status().message()), HasSubstr(path.string()));
}

TEST_F(IdxReader, RejectsTruncatedGzipStream) {
  const fs::path full = dir_ / "full.gz";
  // Incompressible-ish content so that cutting the stream in half loses payload.
  std::string bytes = ImagesIdx(0, 28, 28);
  bytes.replace(4, 4, std::string("\0\0\0\x14", 4));  // 20 images.
  uint32_t state = 12345;
  for (int k = 0; k < 20 * 28 * 28; ++k) {
    state = state * 1103515245u + 12345u;
    bytes.push_back(static_cast<char>(state >> 24));
  }
  WriteGzip(full, bytes);
  ASSERT_TRUE(ReadIdxImages(full.string()).ok());
  const std::string zipped = ReadWhole(full);
  for (size_t keep : {zipped.size() / 2, zipped.size() - 4}) {
    const fs::path cut = dir_ / "cut.gz";
    WritePlain(cut, zipped.substr(0, keep));
    absl::StatusOr<at::Tensor> images = ReadIdxImages(cut.string());
    EXPECT_EQ(images.status().code(), absl::StatusCode::kDataLoss) << "kept " << keep;
    EXPECT_THAT(std::string(images.status().message()), HasSubstr(cut.string()));
  }
}

TEST_F(IdxReader, RejectsCorruptGzipStream) {
  const fs::path path = dir_ / "labels.gz";
  WriteGzip(path, LabelsIdx(std::vector<uint8_t>(1000, 3)));
  std::string zipped = ReadWhole(path);
  zipped[zipped.size() - 6] ^= 0x55;  // Inside the CRC-32 trailer.
  WritePlain(path, zipped);
  absl::StatusOr<at::Tensor> labels = ReadIdxLabels(path.string());
  EXPECT_EQ(labels.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(labels.status().message()), HasSubstr(path.string()));
}

TEST_F(IdxReader, RejectsTrailingBytes) {
  const fs::path images_path = dir_ / "images";
  WritePlain(images_path, ImagesIdx(2, 3, 3) + "x");
  absl::StatusOr<at::Tensor> images = ReadIdxImages(images_path.string());
  EXPECT_EQ(images.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(images.status().message()), HasSubstr(images_path.string()));

  const fs::path labels_path = dir_ / "labels.gz";
  WriteGzip(labels_path, LabelsIdx({1, 2}) + "xyz");
  absl::StatusOr<at::Tensor> labels = ReadIdxLabels(labels_path.string());
  EXPECT_EQ(labels.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(labels.status().message()), HasSubstr(labels_path.string()));
}

TEST_F(IdxReader, RejectsBadMagic) {
  const fs::path images_path = dir_ / "images";
  const fs::path labels_path = dir_ / "labels";
  WritePlain(images_path, ImagesIdx(1, 2, 2));
  WritePlain(labels_path, LabelsIdx({1}));
  // Each file read as the other kind.
  absl::StatusOr<at::Tensor> images = ReadIdxImages(labels_path.string());
  EXPECT_EQ(images.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(images.status().message()), HasSubstr("magic"));
  EXPECT_THAT(std::string(images.status().message()), HasSubstr(labels_path.string()));
  absl::StatusOr<at::Tensor> labels = ReadIdxLabels(images_path.string());
  EXPECT_EQ(labels.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(labels.status().message()), HasSubstr("magic"));
  // A float32 IDX file (type code 0x0D) is not uint8.
  WritePlain(images_path, ImagesIdx(1, 2, 2, 0x00000D03));
  EXPECT_EQ(ReadIdxImages(images_path.string()).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(IdxReader, RejectsZeroImageDims) {
  const fs::path path = dir_ / "images";
  WritePlain(path, ImagesIdx(5, 0, 28));
  EXPECT_EQ(ReadIdxImages(path.string()).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(IdxReader, RejectsHeaderWhoseSizeOverflows) {
  // 2^32-1 images of 2^32-1 x 2^32-1 pixels must not wrap around to a small payload.
  const fs::path path = dir_ / "images";
  std::string bytes;
  for (uint32_t word : {0x803u, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}) {
    AppendBigEndian32(bytes, word);
  }
  bytes += std::string(15, '\0');
  WritePlain(path, bytes);
  EXPECT_EQ(ReadIdxImages(path.string()).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(IdxReader, RefusesAGzipBombPastTheSizeLimitNamingTheFile) {
  const fs::path path = dir_ / "images.gz";
  WriteGzipOfZeros(path, kMaxIdxFileBytes + (size_t{16} << 20));
  absl::StatusOr<at::Tensor> images = ReadIdxImages(path.string());
  EXPECT_EQ(images.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(images.status().message()), HasSubstr(path.string()));
  EXPECT_THAT(std::string(images.status().message()),
              HasSubstr("more than " + std::to_string(kMaxIdxFileBytes) + " bytes"));
}

TEST_F(IdxReader, RefusesAHugeSparsePlainFileReadingNoMoreThanTheLimit) {
  // 100 GiB of nothing (as `truncate -s 100G`), read by a child that may allocate 512 MiB.
  const fs::path path = dir_ / "images";
  WritePlain(path, ImagesIdx(1, 28, 28));
  fs::resize_file(path, uintmax_t{100} << 30);
  EXPECT_TRUE(hnet::testing::RunWithMemoryHeadroom(size_t{512} << 20, [&] {
    absl::StatusOr<at::Tensor> images = ReadIdxImages(path.string());
    const std::string message(images.status().message());
    const bool ok = images.status().code() == absl::StatusCode::kDataLoss &&
                    message.find(path.string()) != std::string::npos &&
                    message.find("too large") != std::string::npos;
    if (!ok) std::fprintf(stderr, "unexpected: %s\n", images.status().ToString().c_str());
    return ok;
  }));
}

TEST_F(IdxReader, ReadsAFileOfExactlyTheSizeLimit) {
  // 15,709 images of 16 x 267 and the 16-byte header: 64 MiB exactly.
  const uint32_t rows = 16, cols = 267, count = 15709;
  static_assert(16 + size_t{15709} * 16 * 267 == kMaxIdxFileBytes);
  std::string bytes;
  for (uint32_t word : {0x803u, count, rows, cols}) AppendBigEndian32(bytes, word);
  bytes.resize(16 + size_t{count} * rows * cols, '\7');
  const fs::path path = dir_ / "images";
  WritePlain(path, bytes);
  absl::StatusOr<at::Tensor> images = ReadIdxImages(path.string());
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->size(0), count);
}

TEST(Md5, MatchesKnownDigests) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(Md5Hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(Md5Hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  // 80 bytes: more than one 64-byte block.
  EXPECT_EQ(Md5Hex("1234567890123456789012345678901234567890"
                   "1234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5, PaddingBoundaries) {
  // Lengths 55, 56 and 64 straddle the padding's length field.
  EXPECT_EQ(Md5Hex(std::string(55, 'a')), "ef1772b6dff9a122358552954ad0df65");
  EXPECT_EQ(Md5Hex(std::string(56, 'a')), "3b0c8ac703f828b04c6c197006d17218");
  EXPECT_EQ(Md5Hex(std::string(64, 'a')), "014842d480b571495a4a0363793f7367");
  EXPECT_EQ(Md5Hex(std::string(1000000, 'a')), "7707d6ae4e027c70eea2a935c2296f21");
}

TEST(Md5, IncrementalUpdatesMatchOneShot) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  const std::string one_shot = Md5Hex(data);
  for (size_t chunk : {1, 3, 63, 64, 65, 200}) {
    Md5 md5;
    for (size_t pos = 0; pos < data.size(); pos += chunk) {
      md5.Update(std::string_view(data).substr(pos, chunk));
    }
    EXPECT_EQ(md5.HexDigest(), one_shot) << "chunk " << chunk;
  }
}

// Sets HNET_DATA_DIR for one test and restores it afterwards.
class ScopedDataDirEnv {
 public:
  explicit ScopedDataDirEnv(const char* value) {
    if (const char* old = std::getenv("HNET_DATA_DIR")) old_ = old;
    had_old_ = std::getenv("HNET_DATA_DIR") != nullptr;
    if (value != nullptr) {
      setenv("HNET_DATA_DIR", value, 1);
    } else {
      unsetenv("HNET_DATA_DIR");
    }
  }
  ~ScopedDataDirEnv() {
    if (had_old_) {
      setenv("HNET_DATA_DIR", old_.c_str(), 1);
    } else {
      unsetenv("HNET_DATA_DIR");
    }
  }

 private:
  std::string old_;
  bool had_old_ = false;
};

TEST(DefaultDataDir, UsesEnvironmentVariableElseData) {
  {
    ScopedDataDirEnv env("/some/where");
    EXPECT_EQ(DefaultDataDir(), "/some/where");
  }
  {
    ScopedDataDirEnv env(nullptr);
    EXPECT_EQ(DefaultDataDir(), "data");
  }
}

using LoadMnistSynthetic = TempDirTest;

TEST_F(LoadMnistSynthetic, RejectsNegativeValidationSize) {
  EXPECT_EQ(LoadMnist(dir_.string(), DatasetKind::kMnist, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LoadMnistSynthetic, MissingDataDirIsNotFoundWithFetchHint) {
  absl::StatusOr<MnistData> data = LoadMnist(dir_.string(), DatasetKind::kFashionMnist);
  EXPECT_EQ(data.status().code(), absl::StatusCode::kNotFound);
  const std::string message(data.status().message());
  EXPECT_THAT(message, HasSubstr((dir_ / "fashion-mnist" / "train-images-idx3-ubyte").string()));
  EXPECT_THAT(message, HasSubstr("deploy/fetch_data.sh"));
}

TEST_F(LoadMnistSynthetic, RefusesFilesWhoseMd5IsWrong) {
  fs::create_directories(dir_ / "mnist");
  WritePlain(dir_ / "mnist" / "train-images-idx3-ubyte", ImagesIdx(10, 28, 28));
  WritePlain(dir_ / "mnist" / "train-labels-idx1-ubyte", LabelsIdx(std::vector<uint8_t>(10, 1)));
  absl::StatusOr<MnistData> data = LoadMnist(dir_.string(), DatasetKind::kMnist, 2);
  EXPECT_EQ(data.status().code(), absl::StatusCode::kDataLoss);
  const std::string message(data.status().message());
  EXPECT_THAT(message, HasSubstr((dir_ / "mnist" / "train-images-idx3-ubyte").string()));
  EXPECT_THAT(message, HasSubstr("6bbc9ace898e44ae57da46a324031adb"));  // Expected.
  EXPECT_THAT(message, HasSubstr(Md5Hex(ImagesIdx(10, 28, 28))));       // Actual.
  EXPECT_THAT(message, HasSubstr("deploy/fetch_data.sh"));
}

TEST_F(LoadMnistSynthetic, RefusesAGzipBombPastTheFilesPublishedSize) {
  // 60 MB of zeros where MNIST's largest file (47,040,016 bytes) belongs.
  fs::create_directories(dir_ / "mnist");
  const fs::path path = dir_ / "mnist" / "train-images-idx3-ubyte";
  WriteGzipOfZeros(path.string() + ".gz", 60'000'000);
  absl::StatusOr<MnistData> data = LoadMnist(dir_.string(), DatasetKind::kMnist);
  EXPECT_EQ(data.status().code(), absl::StatusCode::kDataLoss);
  const std::string message(data.status().message());
  EXPECT_THAT(message, HasSubstr(path.string() + ".gz"));
  EXPECT_THAT(message, HasSubstr("more than 47040016 bytes"));
}

// Tests on a real data set, with a scratch dir; skipped where deploy/fetch_data.sh has not been
// run (in $HNET_DATA_DIR, else ./data).
class RealDataTest : public TempDirTest {
 protected:
  explicit RealDataTest(const char* folder) : folder_(folder) {}
  void SetUp() override {
    TempDirTest::SetUp();
    data_dir_ = DefaultDataDir();
    if (!fs::is_directory(fs::path(data_dir_) / folder_)) {
      GTEST_SKIP() << data_dir_ << "/" << folder_ << " is missing; run deploy/fetch_data.sh";
    }
  }
  // Copies the data set's files into the scratch dir, as a data dir of its own.
  fs::path CopyToScratch() {
    const fs::path copy = dir_ / folder_;
    fs::create_directories(copy);
    for (const fs::directory_entry& entry : fs::directory_iterator(fs::path(data_dir_) / folder_)) {
      fs::copy_file(entry.path(), copy / entry.path().filename());
    }
    return copy;
  }
  const char* folder_;
  std::string data_dir_;
};

class RealMnist : public RealDataTest {
 protected:
  RealMnist() : RealDataTest("mnist") {}
};

class RealFashionMnist : public RealDataTest {
 protected:
  RealFashionMnist() : RealDataTest("fashion-mnist") {}
};

void ExpectMnistLike(const MnistData& data) {
  EXPECT_EQ(data.train.size(), 55000);
  EXPECT_EQ(data.validation.size(), 5000);
  EXPECT_EQ(data.test.size(), 10000);
  for (const Split* split : {&data.train, &data.validation, &data.test}) {
    EXPECT_EQ(split->images.scalar_type(), torch::kFloat32);
    EXPECT_EQ(split->labels.scalar_type(), torch::kInt64);
    EXPECT_EQ(split->images.sizes(), (std::vector<int64_t>{split->size(), 1, 28, 28}));
    EXPECT_EQ(split->labels.sizes(), (std::vector<int64_t>{split->size()}));
    EXPECT_TRUE(split->images.device().is_cpu());
    EXPECT_GE(split->images.min().item<float>(), 0.0f);
    EXPECT_LE(split->images.max().item<float>(), 1.0f);
    EXPECT_EQ(split->images.max().item<float>(), 1.0f);  // 255 occurs.
    EXPECT_EQ(split->labels.min().item<int64_t>(), 0);
    EXPECT_EQ(split->labels.max().item<int64_t>(), 9);
  }
}

TEST_F(RealMnist, LoadsSplits) {
  absl::StatusOr<MnistData> data = LoadMnist(data_dir_, DatasetKind::kMnist);
  ASSERT_TRUE(data.ok()) << data.status();
  ExpectMnistLike(*data);
  // The well-known first labels: 5 in the training file, 7 in the test file.
  EXPECT_EQ(data->validation.labels[0].item<int64_t>(), 5);
  EXPECT_EQ(data->test.labels[0].item<int64_t>(), 7);
  // Validation is the head of the training file and train its tail.
  absl::StatusOr<at::Tensor> raw = ReadIdxImages(data_dir_ + "/mnist/train-images-idx3-ubyte");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_TRUE(
      torch::equal(data->validation.images[4999][0], (*raw)[4999].to(torch::kFloat32) / 255));
  EXPECT_TRUE(torch::equal(data->train.images[0][0], (*raw)[5000].to(torch::kFloat32) / 255));
}

TEST_F(RealMnist, TestSplitAloneEqualsLoadMnistsAndNeedsNoTrainingFiles) {
  absl::StatusOr<MnistData> data = LoadMnist(data_dir_, DatasetKind::kMnist);
  absl::StatusOr<Split> test = LoadTestSplit(data_dir_, DatasetKind::kMnist);
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_TRUE(torch::equal(test->images, data->test.images));
  EXPECT_TRUE(torch::equal(test->labels, data->test.labels));

  // A data dir holding only the two test files (links to the real ones).
  const fs::path only_test = dir_ / "test-only";
  fs::create_directories(only_test / "mnist");
  for (const char* name : {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    fs::path source = fs::absolute(data_dir_) / "mnist" / name;
    if (!fs::exists(source)) source += ".gz";
    fs::create_symlink(source, only_test / "mnist" / source.filename());
  }
  EXPECT_EQ(LoadMnist(only_test.string(), DatasetKind::kMnist).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<Split> alone = LoadTestSplit(only_test.string(), DatasetKind::kMnist);
  ASSERT_TRUE(alone.ok()) << alone.status();
  EXPECT_EQ(alone->size(), 10000);
  EXPECT_TRUE(torch::equal(alone->images, data->test.images));
}

TEST_F(RealMnist, HonoursValidationSize) {
  absl::StatusOr<MnistData> data = LoadMnist(data_dir_, DatasetKind::kMnist, 0);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->train.size(), 60000);
  EXPECT_EQ(data->validation.size(), 0);
  EXPECT_EQ(LoadMnist(data_dir_, DatasetKind::kMnist, 60000).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RealFashionMnist, LoadsSplits) {
  absl::StatusOr<MnistData> data = LoadMnist(data_dir_, DatasetKind::kFashionMnist);
  ASSERT_TRUE(data.ok()) << data.status();
  ExpectMnistLike(*data);
}

TEST_F(RealFashionMnist, ConfiguredDataFollowsTheConfigsDatasetAndValidationSize) {
  hnet::v1::DataConfig config;
  config.set_dataset(hnet::v1::DataConfig::FASHION_MNIST);
  config.set_validation_size(1000);
  absl::StatusOr<MnistData> data = LoadConfiguredData(config, data_dir_);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->validation.size(), 1000);
  EXPECT_EQ(data->train.size(), 59000);
  absl::StatusOr<MnistData> fashion = LoadMnist(data_dir_, DatasetKind::kFashionMnist, 1000);
  ASSERT_TRUE(fashion.ok()) << fashion.status();
  EXPECT_TRUE(torch::equal(data->test.images, fashion->test.images));
  EXPECT_EQ(KindOf(hnet::v1::DataConfig::MNIST), DatasetKind::kMnist);
}

TEST_F(RealMnist, RefusesCorruptedCopyNamingFile) {
  const fs::path copy = CopyToScratch();
  const fs::path victim = copy / "train-labels-idx1-ubyte";
  ASSERT_TRUE(fs::exists(victim));
  std::string bytes = ReadWhole(victim);
  bytes[100] = static_cast<char>((bytes[100] + 1) % 10);  // Still a valid label.
  WritePlain(victim, bytes);

  absl::StatusOr<MnistData> data = LoadMnist(dir_.string(), DatasetKind::kMnist);
  EXPECT_EQ(data.status().code(), absl::StatusCode::kDataLoss);
  const std::string message(data.status().message());
  EXPECT_THAT(message, HasSubstr(victim.string()));
  EXPECT_THAT(message, HasSubstr("a25bea736e30d166cdddb491f175f624"));
  EXPECT_THAT(message, HasSubstr("deploy/fetch_data.sh"));
}

TEST_F(RealFashionMnist, RefusesTruncatedGzipCopyNamingFile) {
  const fs::path copy = CopyToScratch();
  const fs::path victim = copy / "train-images-idx3-ubyte.gz";
  ASSERT_TRUE(fs::exists(victim));
  fs::resize_file(victim, fs::file_size(victim) - 1000);

  absl::StatusOr<MnistData> data = LoadMnist(dir_.string(), DatasetKind::kFashionMnist);
  EXPECT_EQ(data.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(data.status().message()), HasSubstr(victim.string()));
}

TEST(CheckImagesFit, AcceptsTheDeclaredInputAndNamesBothShapesOtherwise) {
  Split split{torch::zeros({3, 1, 28, 28}), torch::zeros({3}, torch::kInt64)};
  hnet::v1::TargetSpec target;
  target.set_name("small");
  target.set_input_channels(1);
  target.set_input_height(28);
  target.set_input_width(28);
  EXPECT_TRUE(CheckImagesFit(split, target).ok());
  target.set_input_height(32);
  absl::Status s = CheckImagesFit(split, target);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("'small' expects inputs 1x32x28"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("[1, 28, 28]"));
  split.images = torch::zeros({3, 28});
  EXPECT_FALSE(CheckImagesFit(split, target).ok());
}

}  // namespace
}  // namespace hnet::core
