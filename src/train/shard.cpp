#include "train/shard.hpp"

#include <bit>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "core/error.hpp"

namespace minima::train {

static_assert(std::endian::native == std::endian::little,
              "shards store little-endian integers and are read in place");

namespace {

constexpr uint64_t kFnvPrime = 0x100000001B3ull;
constexpr size_t kWriteChunkTokens = size_t{1} << 16;

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T>
void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

}  // namespace

uint32_t shard_bytes_per_token(uint32_t n_vocab) {
  return n_vocab <= 65536 ? 2 : 4;
}

uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t h) {
  for (const uint8_t b : bytes) h = (h ^ b) * kFnvPrime;
  return h;
}

ShardWriter::ShardWriter(std::filesystem::path path, uint32_t n_vocab)
    : path_(std::move(path)),
      tmp_(path_.string() + ".tmp"),
      n_vocab_(n_vocab),
      bytes_per_token_(shard_bytes_per_token(n_vocab)) {
  if (n_vocab == 0 || n_vocab > uint32_t{INT32_MAX}) {
    fail(path_.string(), ": cannot write a shard for a vocabulary of ", n_vocab, " tokens");
  }
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (f_ == nullptr) fail(tmp_.string(), ": cannot create: ", std::strerror(errno));
  // The header is written last (it holds the count and checksum); reserve its place.
  const uint8_t zeros[kShardHeaderBytes] = {};
  if (std::fwrite(zeros, 1, sizeof zeros, f_) != sizeof zeros) {
    const int err = errno;
    std::fclose(f_);  // the destructor does not run for a constructor that throws
    f_ = nullptr;
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
    fail(tmp_.string(), ": write failed: ", std::strerror(err));
  }
}

ShardWriter::~ShardWriter() {
  if (f_ == nullptr) return;
  std::fclose(f_);
  std::error_code ec;
  std::filesystem::remove(tmp_, ec);
}

void ShardWriter::append(std::span<const int32_t> tokens) {
  if (f_ == nullptr) fail(path_.string(), ": append after finish");
  for (size_t done = 0; done < tokens.size();) {
    const size_t n = std::min(tokens.size() - done, kWriteChunkTokens);
    buf_.resize(n * bytes_per_token_);
    for (size_t i = 0; i < n; ++i) {
      const int32_t t = tokens[done + i];
      if (t < 0 || static_cast<uint32_t>(t) >= n_vocab_) {
        fail(path_.string(), ": token ", t, " at position ", n_tokens_ + i,
             " is outside the vocabulary [0, ", n_vocab_, ")");
      }
      if (bytes_per_token_ == 2) {
        store(&buf_[2 * i], static_cast<uint16_t>(t));
      } else {
        store(&buf_[4 * i], static_cast<uint32_t>(t));
      }
    }
    if (std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      fail(tmp_.string(), ": write failed (disk full?): ", std::strerror(errno));
    }
    checksum_ = fnv1a64(buf_, checksum_);
    n_tokens_ += n;
    done += n;
  }
}

void ShardWriter::finish() {
  if (f_ == nullptr) fail(path_.string(), ": finish called twice");
  uint8_t h[kShardHeaderBytes];
  std::memcpy(h, kShardMagic, sizeof kShardMagic);
  store(h + 8, bytes_per_token_);
  store(h + 12, n_vocab_);
  store(h + 16, n_tokens_);
  store(h + 24, checksum_);
  const bool ok = std::fseek(f_, 0, SEEK_SET) == 0 && std::fwrite(h, 1, sizeof h, f_) == sizeof h &&
                  std::fflush(f_) == 0;
  const int err = errno;
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  std::error_code ec;
  if (!ok || !closed) {
    std::filesystem::remove(tmp_, ec);
    fail(tmp_.string(), ": write failed (disk full?): ", std::strerror(err));
  }
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) {
    std::filesystem::remove(tmp_, ec);
    fail(path_.string(), ": cannot rename the finished shard into place: ", ec.message());
  }
}

void write_token_shard(const std::filesystem::path& path, uint32_t n_vocab,
                       std::span<const int32_t> tokens) {
  ShardWriter w(path, n_vocab);
  w.append(tokens);
  w.finish();
}

TokenShard TokenShard::open(const std::filesystem::path& path) {
  TokenShard s;
  s.map_ = MappedFile(path, FileLoad::Map);
  const std::span<const uint8_t> b = s.map_.bytes();
  const std::string& name = s.map_.path();
  if (b.size() < kShardHeaderBytes) {
    fail(name, ": not a token shard: ", b.size(), " bytes, shorter than the ", kShardHeaderBytes,
         "-byte header");
  }
  if (std::memcmp(b.data(), kShardMagic, sizeof kShardMagic) != 0) {
    fail(name, ": not a token shard: the file does not start with \"MNSHARD1\"");
  }
  s.bytes_per_token_ = load<uint32_t>(b.data() + 8);
  s.n_vocab_ = load<uint32_t>(b.data() + 12);
  s.n_tokens_ = load<uint64_t>(b.data() + 16);
  const auto checksum = load<uint64_t>(b.data() + 24);
  // Tokens are handed out as int32 (TokenId): larger vocabularies cannot be represented.
  if (s.n_vocab_ == 0 || s.n_vocab_ > uint32_t{INT32_MAX}) {
    fail(name, ": header: n_vocab ", s.n_vocab_, " is outside [1, ", INT32_MAX, "]");
  }
  if (s.bytes_per_token_ != shard_bytes_per_token(s.n_vocab_)) {
    fail(name, ": header: ", s.bytes_per_token_, " bytes per token for n_vocab ", s.n_vocab_,
         " (expected ", shard_bytes_per_token(s.n_vocab_), ")");
  }
  const uint64_t payload = b.size() - kShardHeaderBytes;
  if (s.n_tokens_ > payload / s.bytes_per_token_ || s.n_tokens_ * s.bytes_per_token_ != payload) {
    fail(name, ": header says ", s.n_tokens_, " tokens of ", s.bytes_per_token_,
         " bytes, but the file holds ", payload, " bytes after the header (truncated or damaged)");
  }
  s.tokens_ = b.data() + kShardHeaderBytes;
  if (fnv1a64(b.subspan(kShardHeaderBytes)) != checksum) {
    fail(name, ": checksum mismatch: the token data is damaged");
  }
  for (uint64_t i = 0; i < s.n_tokens_; ++i) {
    if (s[i] >= s.n_vocab_) {
      fail(name, ": token ", s[i], " at position ", i, " is not below n_vocab ", s.n_vocab_);
    }
  }
  return s;
}

void TokenShard::read(uint64_t pos, std::span<int32_t> out) const {
  if (pos > n_tokens_ || out.size() > n_tokens_ - pos) {
    fail(path(), ": cannot read tokens [", pos, ", ", pos + out.size(), "): the shard has ",
         n_tokens_);
  }
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int32_t>((*this)[pos + i]);
}

}  // namespace minima::train
