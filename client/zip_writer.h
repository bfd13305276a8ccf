// A minimal ZIP writer: stored (uncompressed) entries, optionally aligned, with ZIP64 records
// where sizes, offsets or the entry count pass the classic format's limits. Enough for NumPy
// .npz and PyTorch's zip serialization format, of any size.
#ifndef HNET_CLIENT_ZIP_WRITER_H_
#define HNET_CLIENT_ZIP_WRITER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hnet::client {

// CRC-32 (IEEE 802.3, as in zip and gzip) of `data`.
uint32_t Crc32(absl::string_view data);

// CRC-32 of the bytes that gave `crc` followed by `data` (Crc32Extend(0, d) == Crc32(d)).
uint32_t Crc32Extend(uint32_t crc, absl::string_view data);

// CRC-32 of a followed by b, from crc_a = Crc32(a), crc_b = Crc32(b) and b's length alone
// (zlib's crc32_combine): Crc32Combine(Crc32(a), Crc32(b), b.size()) == Crc32(a + b).
uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);

class ZipWriter {
 public:
  // Takes the next bytes of the archive; a non-OK status fails the writer.
  using Sink = std::function<absl::Status(absl::string_view bytes)>;
  // Passes the bytes of one entry, in order, to the sink it is given (see AddProduced).
  using Producer =
      absl::FunctionRef<absl::Status(absl::FunctionRef<absl::Status(absl::string_view)> sink)>;

  // Sizes and offsets from here on are stored in ZIP64 records (0xFFFFFFFF is the classic
  // fields' "see ZIP64" marker).
  static constexpr uint64_t kZip64Limit = 0xFFFFFFFFu;

  // An archive built in memory; Finish() returns it.
  ZipWriter() = default;
  // An archive handed to `sink` as it is built (entries are not buffered); end it with
  // Close().
  explicit ZipWriter(Sink sink) : sink_(std::move(sink)) {}

  // Sizes and offsets >= `limit` (default kZip64Limit) use ZIP64 records; tests lower it to
  // check ZIP64 archives without writing 4 GiB. Set it before the first Add.
  void set_zip64_limit(uint64_t limit) { zip64_limit_ = limit; }

  // Appends an entry `name` holding `data`. With alignment > 1 the data starts at a multiple
  // of `alignment` bytes from the start of the archive (padding goes into the local header's
  // extra field, as PyTorch does). INVALID_ARGUMENT for an empty, duplicate or over-long
  // name, or alignment outside [1, 32768]; the sink's error once it has failed.
  absl::Status Add(absl::string_view name, absl::string_view data, int alignment = 1);

  // As Add, the entry holding the concatenation of `pieces` (nothing is concatenated).
  absl::Status AddPieces(absl::string_view name, absl::Span<const absl::string_view> pieces,
                         int alignment = 1);

  // As Add, an entry of `size` bytes whose CRC-32 is `crc`, both known beforehand, that
  // `produce` passes to its sink after the entry's header: data too large for memory goes
  // through in pieces. The sink answers the writer's sink's error. INTERNAL when `produce`
  // passes other than `size` bytes; an error of `produce` is returned as it is. After either
  // the archive is broken: the writer keeps failing.
  absl::Status AddProduced(absl::string_view name, uint64_t size, uint32_t crc, Producer produce,
                           int alignment = 1);

  // The finished in-memory archive (entries, central directory, end records). The writer is
  // left empty, ready for a new archive. Not for a writer with a sink (returns "").
  std::string Finish();

  // Writes the central directory and end records of a streamed archive to the sink; OK or
  // the first error of the sink. The writer is left empty.
  absl::Status Close();

 private:
  struct Entry {
    std::string name;
    uint32_t crc;
    uint64_t size;
    uint64_t offset;
  };
  void Emit(absl::string_view bytes);
  // Checks the name and alignment of a new entry and writes its local header.
  absl::Status BeginEntry(absl::string_view name, uint64_t size, uint32_t crc, int alignment);
  void WriteDirectory();

  Sink sink_;
  absl::Status sink_status_;
  uint64_t zip64_limit_ = kZip64Limit;
  uint64_t written_ = 0;  // archive bytes so far
  std::string out_;       // the archive, without a sink
  std::vector<Entry> entries_;
};

}  // namespace hnet::client

#endif  // HNET_CLIENT_ZIP_WRITER_H_
