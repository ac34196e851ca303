// The three tokenizer algorithms, each run on one raw-text fragment (special tokens already split
// off by split_specials). Each appends ids to `out`.
#pragma once

#include <string_view>
#include <vector>

#include "runtime/tokenizer/vocab.hpp"

namespace minima::tok {

// SentencePiece BPE: `text` already has its spaces escaped to U+2581 (and the prefix added).
// Adjacent symbols are merged best score first (leftmost on ties) while the merged text is a
// token; leftovers become byte tokens. Works on raw bytes, so invalid UTF-8 is byte-encoded.
void spm_encode(const Vocab& v, std::string_view text, std::vector<TokenId>& out);

// Byte-level BPE: sanitises `text` (invalid UTF-8 → U+FFFD), pre-tokenizes it into words and
// merges each word's bytes by merge rank (lowest first, leftmost on ties).
void bpe_encode(const Vocab& v, std::string_view text, std::vector<TokenId>& out);

// WordPiece: BERT normalisation (drop controls, NFD, strip accents, lowercase), split on spaces
// and punctuation, then greedy longest match of "▁word" per word; a word that cannot be covered
// becomes the unknown token.
void wpm_encode(const Vocab& v, std::string_view text, std::vector<TokenId>& out);

}  // namespace minima::tok
