#include "server/weight_cache.h"

#include <ATen/core/Tensor.h>

namespace hnet::server {
namespace {

int64_t Bytes(const core::WeightBatch& weights) {
  int64_t total = 0;
  for (const at::Tensor& w : weights) total += static_cast<int64_t>(w.nbytes());
  return total;
}

}  // namespace

std::shared_ptr<const core::WeightBatch> WeightCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void WeightCache::Put(const std::string& key, std::shared_ptr<const core::WeightBatch> weights) {
  const int64_t bytes = Bytes(*weights);
  if (bytes > capacity_bytes_) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& prefix : retired_) {
    if (key.compare(0, prefix.size(), prefix) == 0) return;
  }
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= Bytes(*it->second->second);
    lru_.erase(it->second);
    index_.erase(it);
  }
  while (!lru_.empty() && bytes_ + bytes > capacity_bytes_) {
    bytes_ -= Bytes(*lru_.back().second);
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  lru_.emplace_front(key, std::move(weights));
  index_[key] = lru_.begin();
  bytes_ += bytes;
}

void WeightCache::EraseByPrefix(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  retired_.push_back(prefix);
  if (retired_.size() > kMaxRetired) retired_.pop_front();
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->first.compare(0, prefix.size(), prefix) == 0) {
      bytes_ -= Bytes(*it->second);
      index_.erase(it->first);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

int64_t WeightCache::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(lru_.size());
}

int64_t WeightCache::size_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace hnet::server
