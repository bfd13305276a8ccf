// MD5 (RFC 1321), used only to check downloaded data files against their published sums.
#ifndef HNET_CORE_MD5_H_
#define HNET_CORE_MD5_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hnet::core {

// Incremental MD5. Feed bytes with Update(), then call HexDigest() once; the object must not
// be updated after that.
class Md5 {
 public:
  Md5();

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }

  // The 16-byte digest; finalizes the hash.
  std::array<uint8_t, 16> Digest();
  // The digest as 32 lower-case hex characters; finalizes the hash.
  std::string HexDigest();

 private:
  void Transform(const uint8_t block[64]);

  std::array<uint32_t, 4> state_;
  uint64_t length_ = 0;  // Bytes fed so far.
  std::array<uint8_t, 64> buffer_;
  bool finalized_ = false;
};

// The MD5 of `data` as 32 lower-case hex characters.
std::string Md5Hex(std::string_view data);

}  // namespace hnet::core

#endif  // HNET_CORE_MD5_H_
