#include "client/zip_writer.h"

#include <array>

#include "absl/strings/str_cat.h"

namespace hnet::client {
namespace {

constexpr uint16_t kVersion = 20;        // 2.0: what readers need for stored entries
constexpr uint16_t kVersionZip64 = 45;   // 4.5: ZIP64 records
constexpr uint16_t kDosDate = 0x21;      // 1980-01-01: fixed, so archives are reproducible
constexpr uint16_t kZip64Id = 0x0001;    // ZIP64 extended information extra field
constexpr uint16_t kPaddingId = 0x4246;  // "FB": PyTorch's padding extra field
constexpr uint32_t kMarker32 = 0xFFFFFFFFu;
constexpr uint16_t kMarker16 = 0xFFFFu;

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

void Put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xFF));
  out->push_back(static_cast<char>(v >> 8));
}

void Put32(std::string* out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v & 0xFFFF));
  Put16(out, static_cast<uint16_t>(v >> 16));
}

void Put64(std::string* out, uint64_t v) {
  Put32(out, static_cast<uint32_t>(v & 0xFFFFFFFFu));
  Put32(out, static_cast<uint32_t>(v >> 32));
}

}  // namespace

uint32_t Crc32Extend(uint32_t crc, absl::string_view data) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  uint32_t c = crc ^ 0xFFFFFFFFu;
  for (unsigned char byte : data) c = table[(c ^ byte) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t Crc32(absl::string_view data) { return Crc32Extend(0, data); }

namespace {

// Multiplies the 32x32 GF(2) matrix `mat` by the vector `vec`.
uint32_t Gf2Times(const uint32_t* mat, uint32_t vec) {
  uint32_t sum = 0;
  for (; vec != 0; vec >>= 1, ++mat) {
    if (vec & 1) sum ^= *mat;
  }
  return sum;
}

// square = mat * mat.
void Gf2Square(uint32_t* square, const uint32_t* mat) {
  for (int n = 0; n < 32; ++n) square[n] = Gf2Times(mat, mat[n]);
}

}  // namespace

uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  if (length_b == 0) return crc_a;
  // Appending length_b zero bytes to a's CRC register, by repeated squaring of the operator
  // "append one zero bit" (zlib's crc32_combine).
  uint32_t even[32];
  uint32_t odd[32];
  odd[0] = 0xEDB88320u;
  uint32_t row = 1;
  for (int n = 1; n < 32; ++n, row <<= 1) odd[n] = row;
  Gf2Square(even, odd);  // two zero bits
  Gf2Square(odd, even);  // four zero bits
  do {
    Gf2Square(even, odd);
    if (length_b & 1) crc_a = Gf2Times(even, crc_a);
    length_b >>= 1;
    if (length_b == 0) break;
    Gf2Square(odd, even);
    if (length_b & 1) crc_a = Gf2Times(odd, crc_a);
    length_b >>= 1;
  } while (length_b != 0);
  return crc_a ^ crc_b;
}

void ZipWriter::Emit(absl::string_view bytes) {
  written_ += bytes.size();
  if (!sink_) {
    out_.append(bytes.data(), bytes.size());
  } else if (sink_status_.ok()) {
    sink_status_ = sink_(bytes);
  }
}

absl::Status ZipWriter::Add(absl::string_view name, absl::string_view data, int alignment) {
  return AddPieces(name, {data}, alignment);
}

absl::Status ZipWriter::AddPieces(absl::string_view name,
                                  absl::Span<const absl::string_view> pieces, int alignment) {
  uint64_t size = 0;
  uint32_t crc = 0;
  for (absl::string_view piece : pieces) {
    size += piece.size();
    crc = Crc32Extend(crc, piece);
  }
  if (absl::Status s = BeginEntry(name, size, crc, alignment); !s.ok()) return s;
  for (absl::string_view piece : pieces) Emit(piece);
  return sink_status_;
}

absl::Status ZipWriter::AddProduced(absl::string_view name, uint64_t size, uint32_t crc,
                                    Producer produce, int alignment) {
  if (absl::Status s = BeginEntry(name, size, crc, alignment); !s.ok()) return s;
  uint64_t produced = 0;
  absl::Status s = produce([&](absl::string_view bytes) {
    produced += bytes.size();
    Emit(bytes);
    return sink_status_;
  });
  if (s.ok() && produced != size) {
    s = absl::InternalError(absl::StrCat("zip entry '", name, "': ", produced, " bytes produced, ",
                                         size, " announced"));
  }
  if (!s.ok() && sink_status_.ok()) sink_status_ = s;  // the archive is broken from here on
  return s.ok() ? sink_status_ : s;
}

absl::Status ZipWriter::BeginEntry(absl::string_view name, uint64_t size, uint32_t crc,
                                   int alignment) {
  if (!sink_status_.ok()) return sink_status_;
  if (name.empty() || name.size() > 0xFFFF) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: length ", name.size(), " is outside [1, 65535]"));
  }
  if (alignment < 1 || alignment > 0x8000) {
    return absl::InvalidArgumentError(
        absl::StrCat("alignment: must be in [1, 32768], got ", alignment));
  }
  for (const Entry& e : entries_) {
    if (e.name == name) {
      return absl::InvalidArgumentError(absl::StrCat("name: duplicate entry '", name, "'"));
    }
  }
  const Entry entry{std::string(name), crc, size, written_};
  // Sizes past the limit go into a ZIP64 extra field (both of them, as the format asks).
  const bool zip64 = size >= zip64_limit_;
  const uint64_t zip64_extra = zip64 ? 4 + 16 : 0;
  const uint64_t header_end = entry.offset + 30 + name.size() + zip64_extra;
  uint64_t padding = 0;
  if (alignment > 1) {
    const uint64_t unpadded = header_end + 4;  // the padding field's own header
    padding = 4 + (alignment - unpadded % alignment) % alignment;
  }
  std::string header;
  Put32(&header, 0x04034b50);
  Put16(&header, zip64 ? kVersionZip64 : kVersion);
  Put16(&header, 0);  // flags
  Put16(&header, 0);  // method: stored
  Put16(&header, 0);  // time
  Put16(&header, kDosDate);
  Put32(&header, entry.crc);
  Put32(&header, zip64 ? kMarker32 : static_cast<uint32_t>(size));
  Put32(&header, zip64 ? kMarker32 : static_cast<uint32_t>(size));
  Put16(&header, static_cast<uint16_t>(name.size()));
  Put16(&header, static_cast<uint16_t>(zip64_extra + padding));
  header.append(name.data(), name.size());
  if (zip64) {
    Put16(&header, kZip64Id);
    Put16(&header, 16);
    Put64(&header, size);  // uncompressed
    Put64(&header, size);  // compressed
  }
  if (padding > 0) {
    Put16(&header, kPaddingId);
    Put16(&header, static_cast<uint16_t>(padding - 4));
    header.append(padding - 4, 'Z');
  }
  Emit(header);
  entries_.push_back(entry);
  return sink_status_;
}

void ZipWriter::WriteDirectory() {
  const uint64_t directory_offset = written_;
  std::string record;
  for (const Entry& e : entries_) {
    const bool big_size = e.size >= zip64_limit_;
    const bool big_offset = e.offset >= zip64_limit_;
    std::string extra;
    if (big_size || big_offset) {
      Put16(&extra, kZip64Id);
      Put16(&extra, static_cast<uint16_t>((big_size ? 16 : 0) + (big_offset ? 8 : 0)));
      if (big_size) {
        Put64(&extra, e.size);  // uncompressed
        Put64(&extra, e.size);  // compressed
      }
      if (big_offset) Put64(&extra, e.offset);
    }
    const uint16_t version = extra.empty() ? kVersion : kVersionZip64;
    record.clear();
    Put32(&record, 0x02014b50);
    Put16(&record, version);  // made by
    Put16(&record, version);  // needed
    Put16(&record, 0);        // flags
    Put16(&record, 0);        // stored
    Put16(&record, 0);
    Put16(&record, kDosDate);
    Put32(&record, e.crc);
    Put32(&record, big_size ? kMarker32 : static_cast<uint32_t>(e.size));
    Put32(&record, big_size ? kMarker32 : static_cast<uint32_t>(e.size));
    Put16(&record, static_cast<uint16_t>(e.name.size()));
    Put16(&record, static_cast<uint16_t>(extra.size()));
    Put16(&record, 0);  // comment
    Put16(&record, 0);  // disk
    Put16(&record, 0);  // internal attributes
    Put32(&record, 0);  // external attributes
    Put32(&record, big_offset ? kMarker32 : static_cast<uint32_t>(e.offset));
    record += e.name;
    record += extra;
    Emit(record);
  }
  const uint64_t directory_size = written_ - directory_offset;
  const uint64_t count = entries_.size();
  const bool big_count = count >= kMarker16;
  const bool big_directory = directory_size >= zip64_limit_;
  const bool big_directory_offset = directory_offset >= zip64_limit_;
  record.clear();
  if (big_count || big_directory || big_directory_offset) {
    const uint64_t zip64_end_offset = written_;
    Put32(&record, 0x06064b50);  // ZIP64 end of central directory record
    Put64(&record, 44);          // its size after this field
    Put16(&record, kVersionZip64);
    Put16(&record, kVersionZip64);
    Put32(&record, 0);  // this disk
    Put32(&record, 0);  // disk of the directory
    Put64(&record, count);
    Put64(&record, count);
    Put64(&record, directory_size);
    Put64(&record, directory_offset);
    Put32(&record, 0x07064b50);  // ZIP64 end of central directory locator
    Put32(&record, 0);           // disk of the ZIP64 end record
    Put64(&record, zip64_end_offset);
    Put32(&record, 1);  // disks
  }
  Put32(&record, 0x06054b50);
  Put16(&record, 0);
  Put16(&record, 0);
  Put16(&record, big_count ? kMarker16 : static_cast<uint16_t>(count));
  Put16(&record, big_count ? kMarker16 : static_cast<uint16_t>(count));
  Put32(&record, big_directory ? kMarker32 : static_cast<uint32_t>(directory_size));
  Put32(&record, big_directory_offset ? kMarker32 : static_cast<uint32_t>(directory_offset));
  Put16(&record, 0);  // comment
  Emit(record);
  entries_.clear();
  written_ = 0;
}

std::string ZipWriter::Finish() {
  WriteDirectory();
  std::string archive = std::move(out_);
  out_.clear();
  return archive;
}

absl::Status ZipWriter::Close() {
  WriteDirectory();
  absl::Status status = std::move(sink_status_);
  sink_status_ = absl::OkStatus();
  return status;
}

}  // namespace hnet::client
