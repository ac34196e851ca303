// Ownership of the KV pool's blocks for the engine: free list, reference counts (a block shared by
// several sequences — a cached prompt prefix, or the prompt of n > 1 choices — is freed when the
// last one lets go), and the automatic prefix cache.
//
// Prefix cache: a full block of prompt tokens is identified by a chained hash of (tenant, every
// token from the start of the prompt to the end of the block); a hit also compares the block's own
// tokens, so a wrong reuse needs a 64-bit collision on an identical block. Blocks whose
// KV is complete are registered; when their last user releases them they stay cached in LRU
// order and are evicted only when a fresh block is needed and the free list is empty.
//
// Not thread-safe: owned by the engine thread.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace minima {

class BlockManager {
 public:
  BlockManager(int64_t n_blocks, int64_t block_size);

  int64_t block_size() const { return block_size_; }
  int64_t n_blocks() const { return static_cast<int64_t>(refs_.size()); }
  // Blocks a new sequence could get: free + cached-but-unused (evictable).
  int64_t available() const { return static_cast<int64_t>(free_.size() + lru_.size()); }
  int64_t in_use() const { return n_blocks() - available(); }
  int64_t cached() const { return static_cast<int64_t>(by_hash_.size()); }

  // A fresh block (refcount 1), evicting the least recently used cached block if needed; nullopt
  // when every block is in use.
  std::optional<int32_t> allocate();
  void retain(int32_t block);
  void release(int32_t block);

  // Chain hash of the block that holds tokens [0, end) of a prompt, given the previous block's
  // hash.
  static uint64_t chain_hash(uint64_t prev, std::span<const int32_t> block_tokens);
  static uint64_t tenant_seed(std::string_view tenant);

  // Looks up the longest cached prefix of `tokens` (whole blocks only) for a tenant, retains the
  // blocks found and appends them to `out`. Returns the hashes of all full blocks of `tokens`
  // (for registering the ones computed later). At most max_blocks blocks are taken.
  std::vector<uint64_t> match_prefix(uint64_t tenant, std::span<const int32_t> tokens,
                                     int64_t max_blocks, std::vector<int32_t>& out);
  // Registers a block whose KV holds exactly the prefix block with this hash; a no-op when another
  // block already holds it.
  void register_block(int32_t block, uint64_t hash, std::span<const int32_t> block_tokens);

 private:
  void forget(int32_t block);  // remove a block from the cache maps

  int64_t block_size_;
  std::vector<int32_t> refs_;      // [n_blocks]
  std::vector<uint64_t> hash_of_;  // [n_blocks] 0 = not cached
  std::vector<int32_t> tokens_;    // [n_blocks, block_size] tokens of cached blocks
  std::vector<int32_t> free_;      // blocks with refcount 0 and no cache entry
  std::list<int32_t> lru_;         // cached blocks with refcount 0, least recent first
  std::vector<std::list<int32_t>::iterator> lru_pos_;  // [n_blocks] valid while in lru_
  std::vector<uint8_t> in_lru_;                        // [n_blocks]
  std::unordered_map<uint64_t, int32_t> by_hash_;
};

}  // namespace minima
