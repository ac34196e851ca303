// `minima data prepare`: corpus files → tokenized, split and shuffled token shards.
//
// Every document (corpus.hpp) is encoded with the tokenizer (parse_special on, so ChatML markers
// written in the text become their special tokens) and followed by <|endoftext|> (or EOS).
// Document i (its position over all inputs: files in the order given, lines in order) goes to eval when
// uniform01(seed, kEvalSplitStream, i) < eval_fraction, so the split of a document never depends
// on the other documents. Each split's documents are then shuffled with the seed and written
// whole, one after the other: DIR/train.tok, DIR/eval.tok (shard.hpp) and DIR/meta.json.
//
// All tokens are held in memory until the shards are written (4 bytes per token).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace minima {
class Tokenizer;
}

namespace minima::train {

// Streams of the counter-based RNG (rng.hpp) used here: distinct from any other use of a seed.
inline constexpr uint64_t kEvalSplitStream = 0x4441'5441'5350'4C54ull;     // "DATASPLT"
inline constexpr uint64_t kTrainShuffleStream = 0x4441'5441'5452'5348ull;  // "DATATRSH"
inline constexpr uint64_t kEvalShuffleStream = 0x4441'5441'4556'5348ull;   // "DATAEVSH"

struct DataPrepareOptions {
  std::filesystem::path tokenizer;  // recorded in meta.json
  std::vector<std::filesystem::path> inputs;
  std::filesystem::path out_dir;  // created if missing
  double eval_fraction = 0.01;    // in [0, 1]
  uint64_t seed = 1;
  int threads = 1;
};

struct SplitCounts {
  uint64_t documents = 0;
  uint64_t tokens = 0;  // the <|endoftext|> after each document included
};

struct InputCounts {
  std::filesystem::path path;
  uint64_t bytes = 0;  // of document text
  SplitCounts train, eval;
};

struct DataPrepareResult {
  uint32_t n_vocab = 0;
  int32_t eot_id = -1;
  SplitCounts train, eval;
  std::vector<InputCounts> inputs;
};

// Whether the document at doc_index goes to the eval split.
bool is_eval_document(uint64_t seed, uint64_t doc_index, double eval_fraction);

// Writes DIR/train.tok, DIR/eval.tok and DIR/meta.json. Error naming the file (and line) for bad
// input, when the tokenizer has neither <|endoftext|> nor an EOS token (the separator otherwise),
// or when the options are out of range.
DataPrepareResult prepare_data(const Tokenizer& tok, const DataPrepareOptions& opt);

}  // namespace minima::train
