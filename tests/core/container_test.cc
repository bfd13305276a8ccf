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

TEST_F(ContainerTest, WritesThroughASymlinkAndKeepsTheLink) {
  const std::string run = Path("run3.hnet");
  const std::string latest = Path("latest.hnet");
  ASSERT_TRUE(WriteContainerFile(run, kCheckpointContainer, kVersion, "old").ok());
  fs::create_symlink("run3.hnet", latest);  // Relative, as `ln -s run3.hnet latest.hnet`.

  ASSERT_TRUE(WriteContainerFile(latest, kCheckpointContainer, kVersion, "new").ok());
  ASSERT_TRUE(fs::is_symlink(latest));
  EXPECT_EQ(fs::read_symlink(latest), "run3.hnet");
  auto through_link = ReadContainerFile(latest, kCheckpointContainer, kVersion);
  auto direct = ReadContainerFile(run, kCheckpointContainer, kVersion);
  ASSERT_TRUE(through_link.ok() && direct.ok());
  EXPECT_EQ(*through_link, "new");
  EXPECT_EQ(*direct, "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2);
}

TEST_F(ContainerTest, WritesTheFileADanglingSymlinkNames) {
  fs::create_directories(dir_ / "runs");
  const std::string latest = Path("latest.hnet");
  fs::create_symlink("runs/run4.hnet", latest);
  ASSERT_TRUE(WriteContainerFile(latest, kCheckpointContainer, kVersion, "first").ok());
  EXPECT_TRUE(fs::is_symlink(latest));
  EXPECT_TRUE(fs::is_regular_file(dir_ / "runs" / "run4.hnet"));
  auto read = ReadContainerFile(latest, kCheckpointContainer, kVersion);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "first");
}

TEST_F(ContainerTest, ALinkPlacedAtThePredictableTemporaryNameIsNeitherFollowedNorUsed) {
  // The old temporary name, <path>.tmp.<pid>, pre-placed as a link to a file of someone else's.
  const std::string victim = Path("victim");
  WriteBytes(victim, "precious");
  const std::string path = Path("m.hnet");
  const std::string trap = path + ".tmp." + std::to_string(::getpid());
  fs::create_symlink(victim, trap);

  ASSERT_TRUE(WriteContainerFile(path, kCheckpointContainer, kVersion, "payload").ok());
  EXPECT_EQ(ReadBytes(victim), "precious");
  EXPECT_FALSE(fs::is_symlink(path));
  auto read = ReadContainerFile(path, kCheckpointContainer, kVersion);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "payload");
}

TEST_F(ContainerTest, NewFilesGetTheUmasksPermissionsAndReplacedFilesKeepTheirs) {
  const mode_t old_umask = ::umask(027);
  const std::string path = Path("m.hnet");
  const absl::Status written = WriteContainerFile(path, kCheckpointContainer, kVersion, "a");
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written;
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);

  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_TRUE(WriteContainerFile(path, kCheckpointContainer, kVersion, "b").ok());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ContainerTest, AFifoIsWrittenInPlaceNotReplacedByARegularFile) {
  // `--out /dev/null` works the same way; as root, a rename onto it would replace the device.
  const std::string fifo = Path("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // so the writer's open returns
  ASSERT_GE(reader, 0);

  const absl::Status written = WriteContainerFile(fifo, kCheckpointContainer, kVersion, "payload");
  char got[64] = {};
  const ssize_t n = ::read(reader, got, sizeof(got));
  ::close(reader);
  ASSERT_TRUE(written.ok()) << written;
  EXPECT_TRUE(fs::is_fifo(fifo));
  ASSERT_EQ(n, static_cast<ssize_t>(kHeaderBytes + 7));
  EXPECT_EQ(std::string(got, 8), "HNETCKPT");
  EXPECT_EQ(std::string(got + kHeaderBytes, 7), "payload");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(ContainerTest, AFailedWriteLeavesNoTemporaryFileBehind) {
  const std::string path = Path("taken");
  fs::create_directories(fs::path(path) / "inside");  // A non-empty directory: rename fails.
  const absl::Status s = WriteContainerFile(path, kCheckpointContainer, kVersion, "payload");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr(path));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace hnet::core
