#include "client/zip_writer.h"

#include <gtest/gtest.h>

namespace hnet::client {
namespace {

uint32_t Le32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}
uint16_t Le16(const std::string& s, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[at]) | static_cast<uint8_t>(s[at + 1]) << 8);
}

TEST(ZipWriterTest, Crc32KnownValues) {
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
}

TEST(ZipWriterTest, StoredEntriesAreAlignedAndListed) {
  ZipWriter zip;
  ASSERT_TRUE(zip.Add("a/data.pkl", "hello", 64).ok());
  ASSERT_TRUE(zip.Add("a/data/0", std::string(100, 'x'), 64).ok());
  ASSERT_TRUE(zip.Add("plain", "p").ok());
  const std::string archive = zip.Finish();

  // Walk the local headers: data offsets are multiples of 64 for the aligned entries.
  size_t at = 0;
  std::vector<size_t> data_offsets;
  while (Le32(archive, at) == 0x04034b50) {
    EXPECT_EQ(Le16(archive, at + 8), 0);  // stored
    const size_t size = Le32(archive, at + 18);
    const size_t data = at + 30 + Le16(archive, at + 26) + Le16(archive, at + 28);
    data_offsets.push_back(data);
    at = data + size;
  }
  ASSERT_EQ(data_offsets.size(), 3u);
  EXPECT_EQ(data_offsets[0] % 64, 0u);
  EXPECT_EQ(data_offsets[1] % 64, 0u);
  EXPECT_EQ(archive.substr(data_offsets[0], 5), "hello");
  EXPECT_EQ(Le32(archive, at), 0x02014b50u);  // central directory follows
  const size_t end = archive.size() - 22;
  EXPECT_EQ(Le32(archive, end), 0x06054b50u);
  EXPECT_EQ(Le16(archive, end + 10), 3);
  EXPECT_EQ(Le32(archive, end + 16), at);
}

TEST(ZipWriterTest, RejectsBadEntries) {
  ZipWriter zip;
  EXPECT_EQ(zip.Add("", "x").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(zip.Add("x", "1").ok());
  EXPECT_EQ(zip.Add("x", "2").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(zip.Add("y", "2", 0).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hnet::client
