#include "runtime/engine/block_manager.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace minima {
namespace {
inline uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

BlockManager::BlockManager(int64_t n_blocks, int64_t block_size)
    : block_size_(block_size),
      refs_(static_cast<size_t>(n_blocks), 0),
      hash_of_(static_cast<size_t>(n_blocks), 0),
      tokens_(static_cast<size_t>(n_blocks * block_size), 0),
      lru_pos_(static_cast<size_t>(n_blocks)),
      in_lru_(static_cast<size_t>(n_blocks), 0) {
  if (n_blocks <= 0) fail("block manager: need at least one block");
  free_.reserve(static_cast<size_t>(n_blocks));
  for (int64_t b = n_blocks - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));
}

uint64_t BlockManager::chain_hash(uint64_t prev, std::span<const int32_t> block_tokens) {
  uint64_t h = mix(prev ^ 0x9E3779B97F4A7C15ull);
  for (int32_t t : block_tokens)
    h = mix(h ^ (static_cast<uint64_t>(static_cast<uint32_t>(t)) + 0x632BE59BD9B4E019ull));
  return h == 0 ? 1 : h;  // 0 means "not cached"
}

uint64_t BlockManager::tenant_seed(std::string_view tenant) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a, then mixed
  for (unsigned char c : tenant) h = (h ^ c) * 0x100000001B3ull;
  return mix(h);
}

std::optional<int32_t> BlockManager::allocate() {
  int32_t b;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {
    b = lru_.front();
    lru_.pop_front();
    in_lru_[static_cast<size_t>(b)] = 0;
    forget(b);
  } else {
    return std::nullopt;
  }
  refs_[static_cast<size_t>(b)] = 1;
  return b;
}

void BlockManager::retain(int32_t b) {
  const auto i = static_cast<size_t>(b);
  if (refs_[i]++ == 0 && in_lru_[i]) {  // a cached block comes back into use
    lru_.erase(lru_pos_[i]);
    in_lru_[i] = 0;
  }
}

void BlockManager::release(int32_t b) {
  const auto i = static_cast<size_t>(b);
  if (refs_[i] <= 0) fail("block manager: release of block ", b, " which is not in use");
  if (--refs_[i] > 0) return;
  if (hash_of_[i] != 0) {
    lru_.push_back(b);
    lru_pos_[i] = std::prev(lru_.end());
    in_lru_[i] = 1;
  } else {
    free_.push_back(b);
  }
}

void BlockManager::forget(int32_t b) {
  const auto i = static_cast<size_t>(b);
  if (hash_of_[i] == 0) return;
  auto it = by_hash_.find(hash_of_[i]);
  if (it != by_hash_.end() && it->second == b) by_hash_.erase(it);
  hash_of_[i] = 0;
}

std::vector<uint64_t> BlockManager::match_prefix(uint64_t tenant, std::span<const int32_t> tokens,
                                                 int64_t max_blocks, std::vector<int32_t>& out) {
  const int64_t n_full = static_cast<int64_t>(tokens.size()) / block_size_;
  std::vector<uint64_t> hashes(static_cast<size_t>(n_full));
  uint64_t h = tenant;
  bool matching = true;
  for (int64_t i = 0; i < n_full; ++i) {
    h = chain_hash(
        h, tokens.subspan(static_cast<size_t>(i * block_size_), static_cast<size_t>(block_size_)));
    hashes[static_cast<size_t>(i)] = h;
    if (!matching || i >= max_blocks) {
      matching = false;
      continue;
    }
    auto it = by_hash_.find(h);
    const auto blk =
        tokens.subspan(static_cast<size_t>(i * block_size_), static_cast<size_t>(block_size_));
    if (it == by_hash_.end() ||
        !std::equal(blk.begin(), blk.end(),
                    tokens_.begin() + static_cast<std::ptrdiff_t>(it->second) * block_size_)) {
      matching = false;
      continue;
    }
    retain(it->second);
    out.push_back(it->second);
  }
  return hashes;
}

void BlockManager::register_block(int32_t b, uint64_t hash, std::span<const int32_t> block_tokens) {
  if (by_hash_.count(hash) || hash_of_[static_cast<size_t>(b)] != 0) return;
  if (static_cast<int64_t>(block_tokens.size()) != block_size_)
    fail("block manager: a cached block must be full");
  by_hash_.emplace(hash, b);
  hash_of_[static_cast<size_t>(b)] = hash;
  std::copy(block_tokens.begin(), block_tokens.end(),
            tokens_.begin() + static_cast<std::ptrdiff_t>(b) * block_size_);
}

}  // namespace minima
