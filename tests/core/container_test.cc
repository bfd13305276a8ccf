#include "core/container.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "tests/memory_limit.h"

namespace hnet::core {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr uint32_t kVersion = 1;
constexpr uint64_t kHeaderBytes = 24;
constexpr uint64_t kGiB = uint64_t{1} << 30;

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hnet_container_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string ReadBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  static void WriteBytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }

  // A checkpoint header: magic, version, CRC (zero) and `length` payload bytes.
  static std::string Header(uint64_t length, absl::string_view magic = "HNETCKPT") {
    std::string header(magic);
    const uint32_t crc = 0;
    header.append(reinterpret_cast<const char*>(&kVersion), 4);
    header.append(reinterpret_cast<const char*>(&crc), 4);
    header.append(reinterpret_cast<const char*>(&length), 8);
    return header;
  }

  // A sparse file of `size` bytes that starts with `head` (no disk space is used for the rest).
  static void MakeSparseFile(const std::string& path, const std::string& head, uint64_t size) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
    ASSERT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0) << std::strerror(errno);
    ASSERT_EQ(::close(fd), 0);
  }

  // Reads `path` as a checkpoint container in a child that may allocate at most 256 MiB more;
  // true when the read fails with `code` and a message holding the path and `words`.
  static bool ReadFailsWithinMemoryLimit(const std::string& path, absl::StatusCode code,
                                         const std::string& words) {
    return hnet::testing::RunWithMemoryHeadroom(256 << 20, [&] {
      const absl::StatusOr<std::string> read =
          ReadContainerFile(path, kCheckpointContainer, kVersion);
      const std::string message(read.status().message());
      const bool ok = read.status().code() == code && message.find(path) != std::string::npos &&
                      message.find(words) != std::string::npos;
      if (!ok) std::fprintf(stderr, "unexpected: %s\n", read.status().ToString().c_str());
      return ok;
    });
  }

  fs::path dir_;
};

TEST_F(ContainerTest, RoundTripsThePayload) {
  const std::string path = Path("m.hnet");
  ASSERT_TRUE(WriteContainerFile(path, kCheckpointContainer, kVersion, "payload bytes").ok());
  uint32_t crc = 0;
  auto read = ReadContainerFile(path, kCheckpointContainer, kVersion, &crc);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "payload bytes");
  EXPECT_NE(crc, 0u);
}

TEST_F(ContainerTest, HugeSparseFileWithGarbageIsRefusedWithoutReadingIt) {
  const std::string path = Path("big.hnet");
  MakeSparseFile(path, "garbage, no hnet header at all", 64 * kGiB);
  EXPECT_TRUE(ReadFailsWithinMemoryLimit(path, absl::StatusCode::kDataLoss, "bad magic"));
}

TEST_F(ContainerTest, HugeSparseFileWhoseHeaderClaimsItAllIsRefusedAsTooLarge) {
  // The header agrees with the file's size, but no container payload is that large.
  const std::string path = Path("big.hnet");
  MakeSparseFile(path, Header(64 * kGiB - kHeaderBytes), 64 * kGiB);
  EXPECT_TRUE(ReadFailsWithinMemoryLimit(path, absl::StatusCode::kDataLoss, "above the limit"));
}

TEST_F(ContainerTest, HugeSparseFileWithAValidSmallHeaderIsRefusedAsPadded) {
  const std::string path = Path("big.hnet");
  MakeSparseFile(path, Header(100), 64 * kGiB);
  EXPECT_TRUE(ReadFailsWithinMemoryLimit(path, absl::StatusCode::kDataLoss, "truncated or padded"));
}

TEST_F(ContainerTest, PayloadThatCannotBeAllocatedIsResourceExhausted) {
  // 1.5 GiB: within the format's limit, beyond the 256 MiB the child may allocate.
  const uint64_t length = 3 * kGiB / 2;
  const std::string path = Path("big.hnet");
  MakeSparseFile(path, Header(length), kHeaderBytes + length);
  EXPECT_TRUE(
      ReadFailsWithinMemoryLimit(path, absl::StatusCode::kResourceExhausted, "cannot allocate"));
}

}  // namespace
}  // namespace hnet::core
