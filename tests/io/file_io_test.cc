#include "io/file_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"

namespace hnet::io {
namespace {

namespace fs = std::filesystem;

class FileIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("file_io_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Names in the test directory.
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename());
    return out;
  }

  fs::path dir_;
};

TEST_F(FileIoTest, WriteReplacesTheFileAndLeavesNoTemporary) {
  const std::string path = dir_ / "w.npy";
  ASSERT_TRUE(WriteFile(path, "first").ok());
  ASSERT_TRUE(WriteFile(path, std::string("se\0cond", 7)).ok());
  absl::StatusOr<std::string> back = ReadFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, std::string("se\0cond", 7));
  EXPECT_EQ(Entries(), std::vector<std::string>{"w.npy"});
}

TEST_F(FileIoTest, WrittenFileHasOrdinaryPermissions) {
  const std::string path = dir_ / "p.csv";
  const mode_t old = ::umask(022);
  const absl::Status s = WriteFile(path, "x");
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(FileIoTest, ConcurrentWritersEachLeaveAWholeFile) {
  const std::string path = dir_ / "c.bin";
  const std::string a(1 << 20, 'a');
  const std::string b(1 << 20, 'b');
  std::vector<std::thread> writers;
  for (int i = 0; i < 8; ++i) {
    writers.emplace_back([&, i] { EXPECT_TRUE(WriteFile(path, i % 2 ? a : b).ok()); });
  }
  for (std::thread& t : writers) t.join();
  absl::StatusOr<std::string> back = ReadFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == a || *back == b);
  EXPECT_EQ(Entries(), std::vector<std::string>{"c.bin"});
}

TEST_F(FileIoTest, WriteIntoAMissingDirectoryFailsNamingIt) {
  const absl::Status s = WriteFile(dir_ / "no" / "x.npy", "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("no/x.npy"), std::string::npos) << s;
}

TEST_F(FileIoTest, ReadingADirectoryIsAnError) {
  const absl::StatusOr<std::string> r = ReadFile(dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(dir_.string()), std::string::npos) << r.status();
}

TEST_F(FileIoTest, ReadingAMissingFileIsNotFound) {
  EXPECT_EQ(ReadFile(dir_ / "absent").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(FileIoTest, WriteThroughASymlinkReplacesItsTargetAndKeepsTheLink) {
  const std::string target = dir_ / "target.npz";
  ASSERT_TRUE(WriteFile(target, "old").ok());
  fs::create_symlink("target.npz", dir_ / "link.npz");  // relative, as `ln -s` makes it
  ASSERT_TRUE(WriteFile(dir_ / "link.npz", "new").ok());
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.npz"));
  EXPECT_EQ(*ReadFile(target), "new");
  // A dangling link: its target is created.
  fs::create_symlink(dir_ / "made.csv", dir_ / "dangling.csv");
  ASSERT_TRUE(WriteFile(dir_ / "dangling.csv", "x").ok());
  EXPECT_TRUE(fs::is_symlink(dir_ / "dangling.csv"));
  EXPECT_EQ(*ReadFile(dir_ / "made.csv"), "x");
  std::vector<std::string> entries = Entries();
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries,
            (std::vector<std::string>{"dangling.csv", "link.npz", "made.csv", "target.npz"}));
}

TEST_F(FileIoTest, WriteToAFifoWritesInPlaceInsteadOfReplacingIt) {
  // Stands in for /dev/null or /dev/stdout: a special file is written, never renamed over.
  const std::string fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // O_RDWR opens a FIFO without waiting for a writer (Linux) and keeps reads from seeing EOF.
  const int reader = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  const std::string payload(200 << 10, 'p');  // past the pipe buffer: the writer must wait
  std::string received;
  std::thread drain([&] {
    const absl::Time until = absl::Now() + absl::Seconds(10);
    char buffer[1 << 16];
    while (received.size() < payload.size() && absl::Now() < until) {
      pollfd p{reader, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t got = ::read(reader, buffer, sizeof(buffer));
      if (got > 0) received.append(buffer, static_cast<size_t>(got));
    }
  });
  const absl::Status s = WriteFile(fifo, payload);
  drain.join();
  ::close(reader);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(received.size(), payload.size());
  EXPECT_TRUE(received == payload);
  struct stat st {};
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(Entries(), std::vector<std::string>{"fifo"});
}

TEST_F(FileIoTest, WriteKeepsThePermissionsOfTheFileItReplaces) {
  const std::string path = dir_ / "secret.npz";
  const mode_t old = ::umask(022);
  ASSERT_TRUE(WriteFile(path, "one").ok());
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  const absl::Status s = WriteFile(path, "two");
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(*ReadFile(path), "two");
}

TEST_F(FileIoTest, WriteFileFromStreamsPiecesAndAFailedProducerLeavesTheOldFile) {
  const std::string path = dir_ / "w.npz";
  ASSERT_TRUE(WriteFileFrom(path, [](ByteSink sink) {
                if (absl::Status s = sink("ab"); !s.ok()) return s;
                return sink("cd");
              }).ok());
  EXPECT_EQ(*ReadFile(path), "abcd");
  const absl::Status s = WriteFileFrom(path, [](ByteSink sink) {
    (void)sink("partial");
    return absl::CancelledError("producer gave up");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(*ReadFile(path), "abcd");
  EXPECT_EQ(Entries(), std::vector<std::string>{"w.npz"});
}

TEST_F(FileIoTest, WritingOverADirectoryIsInvalidArgument) {
  fs::create_directories(dir_ / "sub");
  const absl::Status s = WriteFile(dir_ / "sub", "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
}

// /dev/stdout behind a shell's `>> file` or `| cat` is /proc/self/fd/1: a regular file
// opened for appending, or a pipe. Either is written in place, never replaced or renamed.
TEST_F(FileIoTest, ADescriptorPathIsAppendedToInPlace) {
  const std::string log = (dir_ / "log.txt").string();
  ASSERT_TRUE(WriteFile(log, "head;").ok());
  const int fd = ::open(log.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  const std::string through_fd = "/proc/self/fd/" + std::to_string(fd);
  EXPECT_TRUE(IsWrittenInPlace(through_fd));
  struct stat before {};
  ASSERT_EQ(::stat(log.c_str(), &before), 0);
  ASSERT_TRUE(WriteFile(through_fd, "tail").ok());
  ::close(fd);
  EXPECT_EQ(ReadFile(log).value(), "head;tail");
  struct stat after {};
  ASSERT_EQ(::stat(log.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // The same file, not a renamed replacement.

  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const absl::Status written =
      WriteFile("/proc/self/fd/" + std::to_string(pipe_fds[1]), "through a pipe");
  ::close(pipe_fds[1]);
  ASSERT_TRUE(written.ok()) << written;
  char buffer[64] = {};
  const ssize_t got = ::read(pipe_fds[0], buffer, sizeof(buffer));
  ::close(pipe_fds[0]);
  EXPECT_EQ(std::string(buffer, std::max<ssize_t>(got, 0)), "through a pipe");
  EXPECT_FALSE(IsWrittenInPlace(log));
}

TEST_F(FileIoTest, ATemporaryNameTooLongToTrackIsStillWrittenOrRefusedCleanly) {
  // The link's target is a valid path under PATH_MAX; its temporary name is not.
  std::string far;
  for (int i = 0; i < 2040; ++i) far += "./";
  far += "x.bin";
  const fs::path link = dir_ / "l.bin";
  fs::create_symlink(far, link);
  const absl::Status s = WriteFile(link.string(), "abc");
  if (s.ok()) {
    EXPECT_EQ(ReadFile((dir_ / "x.bin").string()).value(), "abc");
  } else {
    EXPECT_NE(s.message().find("temporary file"), std::string::npos) << s;
  }
  EXPECT_TRUE(fs::is_symlink(link));
}

}  // namespace
}  // namespace hnet::io
