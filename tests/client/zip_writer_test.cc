#include "client/zip_writer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "client/npy.h"
#include "io/file_io.h"
#include "tests/client/python_util.h"

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

TEST(ZipWriterTest, Crc32CombineEqualsTheCrcOfTheConcatenation) {
  std::mt19937 rng(1234);
  for (size_t a_size : {0, 1, 7, 300}) {
    for (size_t b_size : {0, 1, 9, 4096, 100000}) {
      std::string a(a_size, '\0'), b(b_size, '\0');
      for (char& c : a) c = static_cast<char>(rng());
      for (char& c : b) c = static_cast<char>(rng());
      EXPECT_EQ(Crc32Combine(Crc32(a), Crc32(b), b.size()), Crc32(a + b))
          << a_size << " + " << b_size;
    }
  }
}

TEST(ZipWriterTest, ProducedEntriesEqualAddedOnes) {
  const std::string data = "0123456789abcdefghij";
  ZipWriter added;
  ASSERT_TRUE(added.Add("e", data, 64).ok());
  ZipWriter produced;
  ASSERT_TRUE(produced
                  .AddProduced(
                      "e", data.size(), Crc32(data),
                      [&](absl::FunctionRef<absl::Status(absl::string_view)> sink) {
                        for (size_t i = 0; i < data.size(); i += 7) {
                          if (absl::Status s = sink(data.substr(i, 7)); !s.ok()) return s;
                        }
                        return absl::OkStatus();
                      },
                      64)
                  .ok());
  EXPECT_EQ(produced.Finish(), added.Finish());
}

TEST(ZipWriterTest, ProducingOtherThanTheAnnouncedSizeFailsTheWriter) {
  std::string archive;
  ZipWriter zip([&archive](absl::string_view bytes) {
    archive.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  });
  const absl::Status s = zip.AddProduced(
      "e", 10, 0,
      [](absl::FunctionRef<absl::Status(absl::string_view)> sink) { return sink("short"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_NE(s.message().find("5 bytes produced, 10 announced"), std::string::npos) << s;
  EXPECT_EQ(zip.Add("next", "x").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(zip.Close().code(), absl::StatusCode::kInternal);
  const absl::Status own =
      ZipWriter().AddProduced("e", 1, 0, [](absl::FunctionRef<absl::Status(absl::string_view)>) {
        return absl::DataLossError("source broke");
      });
  EXPECT_EQ(own, absl::DataLossError("source broke"));
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

TEST(ZipWriterTest, Crc32ExtendEqualsCrc32OfTheWhole) {
  EXPECT_EQ(Crc32Extend(Crc32("1234"), "56789"), Crc32("123456789"));
}

// Entries "a.npy" (float32 [3]) and "b.npy" (float32 [2, 2]) of a .npz, written with ZIP64
// records from `limit` on.
std::string Zip64Npz(uint64_t limit) {
  ZipWriter zip;
  zip.set_zip64_limit(limit);
  EXPECT_TRUE(zip.Add("a.npy", *EncodeNpy(*MakeFloat32(std::vector<float>{1, 2, 3})), 64).ok());
  EXPECT_TRUE(
      zip.Add("b.npy", *EncodeNpy(*MakeFloat32(std::vector<float>{4, 5, 6, 7}, {2, 2})), 64).ok());
  return zip.Finish();
}

TEST(ZipWriterTest, Zip64RecordsMarkTheClassicFieldsAndEndWithALocator) {
  const std::string archive = Zip64Npz(0);
  // Local header: sizes are 0xFFFFFFFF, the ZIP64 extra field holds them; data still aligned.
  EXPECT_EQ(Le16(archive, 4), 45);
  EXPECT_EQ(Le32(archive, 18), 0xFFFFFFFFu);
  EXPECT_EQ(Le32(archive, 22), 0xFFFFFFFFu);
  EXPECT_EQ(Le16(archive, 30 + 5), 0x0001);
  EXPECT_EQ((30 + 5 + Le16(archive, 28)) % 64, 0u);
  const size_t end = archive.size() - 22;
  ASSERT_EQ(Le32(archive, end), 0x06054b50u);
  EXPECT_EQ(Le32(archive, end - 20), 0x07064b50u);       // locator
  EXPECT_EQ(Le32(archive, end - 20 - 56), 0x06064b50u);  // ZIP64 end record
  EXPECT_EQ(Le32(archive, end + 16), 0xFFFFFFFFu);       // directory offset: see ZIP64
}

TEST(ZipWriterTest, Zip64ArchivesOpenWithPythonZipfileAndNumpy) {
  HNET_SKIP_WITHOUT_PYTHON_MODULE("numpy");
  // limit 0: every size and offset in ZIP64 records; 200: only the second entry's offset.
  for (uint64_t limit : {uint64_t{0}, uint64_t{200}}) {
    const std::string path = testing::UniqueTempPath("zip64.npz");
    ASSERT_TRUE(io::WriteFile(path, Zip64Npz(limit)).ok());
    EXPECT_EQ(testing::RunPython(R"PY(
import zipfile, numpy as np
z = zipfile.ZipFile(')PY" + path +
                                 R"PY(')
assert z.testzip() is None
assert [i.file_size for i in z.infolist()] == [140, 144], [i.file_size for i in z.infolist()]
d = np.load(')PY" + path + R"PY(')
assert d['a'].tolist() == [1, 2, 3], d['a']
assert d['b'].tolist() == [[4, 5], [6, 7]], d['b']
)PY"),
              0)
        << "limit " << limit;
    std::remove(path.c_str());
  }
}

TEST(ZipWriterTest, AStreamedArchiveEqualsTheInMemoryOne) {
  std::string streamed;
  ZipWriter sink_zip([&streamed](absl::string_view bytes) {
    streamed.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  });
  const absl::string_view pieces[] = {"hel", "lo"};
  ASSERT_TRUE(sink_zip.AddPieces("a", pieces, 64).ok());
  ASSERT_TRUE(sink_zip.Add("b", "world").ok());
  ASSERT_TRUE(sink_zip.Close().ok());
  ZipWriter memory;
  ASSERT_TRUE(memory.Add("a", "hello", 64).ok());
  ASSERT_TRUE(memory.Add("b", "world").ok());
  EXPECT_EQ(streamed, memory.Finish());
}

TEST(ZipWriterTest, ASinkErrorFailsTheArchive) {
  ZipWriter zip([](absl::string_view) { return absl::ResourceExhaustedError("disk full"); });
  EXPECT_EQ(zip.Add("a", "x").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(zip.Close().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace hnet::client
