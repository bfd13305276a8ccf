#include "client/zip_writer.h"

#include <array>
#include <limits>

#include "absl/strings/str_cat.h"

namespace hnet::client {
namespace {

constexpr uint16_t kVersion = 20;     // 2.0: what readers need for stored entries
constexpr uint16_t kDosDate = 0x21;   // 1980-01-01: fixed, so archives are reproducible
constexpr uint16_t kPaddingId = 0x4246;  // "FB": PyTorch's padding extra field

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

}  // namespace

uint32_t Crc32(absl::string_view data) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char byte : data) c = table[(c ^ byte) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

absl::Status ZipWriter::Add(absl::string_view name, absl::string_view data, int alignment) {
  if (name.empty() || name.size() > 0xFFFF) {
    return absl::InvalidArgumentError(absl::StrCat("name: length ", name.size(),
                                                   " is outside [1, 65535]"));
  }
  if (alignment < 1) {
    return absl::InvalidArgumentError(absl::StrCat("alignment: must be >= 1, got ", alignment));
  }
  for (const Entry& e : entries_) {
    if (e.name == name) {
      return absl::InvalidArgumentError(absl::StrCat("name: duplicate entry '", name, "'"));
    }
  }
  const uint64_t offset = out_.size();
  const uint64_t header_end = offset + 30 + name.size();
  uint64_t extra = 0;
  if (alignment > 1) {
    const uint64_t unpadded = header_end + 4;  // the extra field's own header
    extra = 4 + (alignment - unpadded % alignment) % alignment;
  }
  const uint64_t end = header_end + extra + data.size();
  if (end > std::numeric_limits<uint32_t>::max() - (1 << 20) || extra > 0xFFFF ||
      entries_.size() >= 0xFFFF) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: entry '", name, "' would need ZIP64 (archive over 4 GiB)"));
  }
  const Entry entry{std::string(name), Crc32(data), static_cast<uint32_t>(data.size()),
                    static_cast<uint32_t>(offset)};
  Put32(&out_, 0x04034b50);
  Put16(&out_, kVersion);
  Put16(&out_, 0);  // flags
  Put16(&out_, 0);  // method: stored
  Put16(&out_, 0);  // time
  Put16(&out_, kDosDate);
  Put32(&out_, entry.crc);
  Put32(&out_, entry.size);
  Put32(&out_, entry.size);
  Put16(&out_, static_cast<uint16_t>(name.size()));
  Put16(&out_, static_cast<uint16_t>(extra));
  out_.append(name.data(), name.size());
  if (extra > 0) {
    Put16(&out_, kPaddingId);
    Put16(&out_, static_cast<uint16_t>(extra - 4));
    out_.append(extra - 4, 'Z');
  }
  out_.append(data.data(), data.size());
  entries_.push_back(entry);
  return absl::OkStatus();
}

std::string ZipWriter::Finish() {
  const uint32_t directory_offset = static_cast<uint32_t>(out_.size());
  for (const Entry& e : entries_) {
    Put32(&out_, 0x02014b50);
    Put16(&out_, kVersion);  // made by
    Put16(&out_, kVersion);  // needed
    Put16(&out_, 0);         // flags
    Put16(&out_, 0);         // stored
    Put16(&out_, 0);
    Put16(&out_, kDosDate);
    Put32(&out_, e.crc);
    Put32(&out_, e.size);
    Put32(&out_, e.size);
    Put16(&out_, static_cast<uint16_t>(e.name.size()));
    Put16(&out_, 0);  // extra
    Put16(&out_, 0);  // comment
    Put16(&out_, 0);  // disk
    Put16(&out_, 0);  // internal attributes
    Put32(&out_, 0);  // external attributes
    Put32(&out_, e.offset);
    out_.append(e.name);
  }
  const uint32_t directory_size = static_cast<uint32_t>(out_.size()) - directory_offset;
  Put32(&out_, 0x06054b50);
  Put16(&out_, 0);
  Put16(&out_, 0);
  Put16(&out_, static_cast<uint16_t>(entries_.size()));
  Put16(&out_, static_cast<uint16_t>(entries_.size()));
  Put32(&out_, directory_size);
  Put32(&out_, directory_offset);
  Put16(&out_, 0);  // comment
  std::string archive = std::move(out_);
  out_.clear();
  entries_.clear();
  return archive;
}

}  // namespace hnet::client
