// Token shards: a tokenized split of a corpus (`minima data prepare` writes DIR/train.tok and
// DIR/eval.tok; training reads windows of it).
//
// Layout, little-endian:
//   0  char[8]  magic "MNSHARD1"
//   8  uint32   bytes per token: 2 when n_vocab <= 65536, else 4
//  12  uint32   n_vocab (every token is < n_vocab)
//  16  uint64   n_tokens
//  24  uint64   checksum: FNV-1a 64 over the token bytes exactly as stored
//  32  tokens   n_tokens unsigned integers of the given width
//
// A shard is written to PATH.tmp and renamed when complete, so a failure never leaves a half
// file under the final name. Opening one checks everything (sizes, checksum, every token below
// n_vocab; about a second per GB) so training never starts on a damaged file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/mapped_file.hpp"

namespace minima::train {

inline constexpr char kShardMagic[8] = {'M', 'N', 'S', 'H', 'A', 'R', 'D', '1'};
inline constexpr size_t kShardHeaderBytes = 32;

// Bytes per stored token for a vocabulary of n_vocab tokens.
uint32_t shard_bytes_per_token(uint32_t n_vocab);

inline constexpr uint64_t kFnv1aOffset = 0xCBF29CE484222325ull;
// FNV-1a 64 of `bytes`, continuing from `h` (so a stream can be hashed piece by piece).
uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t h = kFnv1aOffset);

// Streams tokens into a shard. The file appears under its name only after finish().
class ShardWriter {
 public:
  // Creates PATH.tmp; Error naming it when that fails. n_vocab must be >= 1.
  ShardWriter(std::filesystem::path path, uint32_t n_vocab);
  ~ShardWriter();  // removes PATH.tmp unless finish() succeeded
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // Error naming the file if a token is outside [0, n_vocab) or the write fails.
  void append(std::span<const int32_t> tokens);
  // Writes the header and renames PATH.tmp to PATH (replacing an existing file).
  void finish();
  uint64_t size() const { return n_tokens_; }

 private:
  std::filesystem::path path_, tmp_;
  std::FILE* f_ = nullptr;
  uint32_t n_vocab_, bytes_per_token_;
  uint64_t n_tokens_ = 0;
  uint64_t checksum_ = kFnv1aOffset;
  std::vector<uint8_t> buf_;  // tokens encoded for one fwrite
};

// A whole shard in one call.
void write_token_shard(const std::filesystem::path& path, uint32_t n_vocab,
                       std::span<const int32_t> tokens);

// A validated shard, memory-mapped read-only. Immutable: safe to read from several threads.
class TokenShard {
 public:
  // Error("<path>: <what is wrong>") for a missing, short, corrupt or inconsistent file.
  static TokenShard open(const std::filesystem::path& path);

  uint64_t size() const { return n_tokens_; }
  uint32_t n_vocab() const { return n_vocab_; }
  uint32_t bytes_per_token() const { return bytes_per_token_; }
  const std::string& path() const { return map_.path(); }

  // Token i; i < size() (unchecked: the hot path of batch assembly).
  uint32_t operator[](uint64_t i) const {
    const uint8_t* p = tokens_ + i * bytes_per_token_;
    return bytes_per_token_ == 2
               ? uint32_t{p[0]} | uint32_t{p[1]} << 8
               : uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  }
  // Copies tokens [pos, pos + out.size()) into out; Error naming the file when the window runs
  // past the end.
  void read(uint64_t pos, std::span<int32_t> out) const;

 private:
  TokenShard() = default;
  MappedFile map_;
  const uint8_t* tokens_ = nullptr;
  uint64_t n_tokens_ = 0;
  uint32_t n_vocab_ = 0;
  uint32_t bytes_per_token_ = 0;
};

}  // namespace minima::train
