// The serving engine: one thread owns the model's forward pass and the paged KV pool; HTTP threads
// only submit() requests and read their events. Each step runs ONE batched forward over every
// running sequence's next token plus a bounded chunk of pending prompt tokens (continuous
// batching): new requests join between steps without waiting for others to finish.
//
// Admission reserves, per request, every KV block its choices may need (prompt + max_tokens), so a
// running sequence never runs out of blocks; requests wait in a bounded FIFO until they fit.
// Prompt prefixes are shared through the BlockManager's prefix cache (per tenant).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "model/forward.hpp"
#include "runtime/engine/block_manager.hpp"
#include "runtime/engine/request.hpp"
#include "runtime/grammar/constraint.hpp"
#include "runtime/tokenizer/tokenizer.hpp"

namespace minima {

struct EngineOptions {
  int64_t n_ctx = 2048;     // longest sequence (prompt + generated)
  int64_t kv_blocks = 0;    // pool size in blocks of 16 positions; 0: enough for 4 full contexts
  int64_t max_batch = 256;  // rows per forward step
  int64_t prefill_chunk = 256;  // prompt tokens one sequence may prefill per step
  int64_t max_running = 64;     // sequences decoding at once
  int64_t max_queue = 256;      // waiting requests before submit() refuses
};

struct EngineStats {
  int64_t queue_depth = 0, running = 0;
  int64_t kv_blocks_total = 0, kv_blocks_used = 0, kv_blocks_cached = 0;
  int64_t prompt_tokens = 0, cached_prompt_tokens = 0, generated_tokens = 0;
  int64_t steps = 0;
};

class Engine {
 public:
  Engine(const Model& model, const Tokenizer& tok, const KernelSet& kernels, ThreadPool& pool,
         EngineOptions opt);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request; false when the queue is full (the caller answers 429). The request must be
  // valid: non-empty prompt, prompt + max_tokens <= n_ctx (checked again here: an Error event).
  bool submit(std::shared_ptr<GenRequest> r);
  EngineStats stats() const;
  const EngineOptions& options() const { return opt_; }

 private:
  struct Seq;
  struct Active;
  void loop();
  void admit();
  bool step();
  void finish_choice(Seq& s, const char* reason);
  void drop_request(Active& a);
  void emit_token(Seq& s, int32_t token, std::span<const float> logits);
  void init_grammar(Seq& s);                              // when the request has a grammar
  int32_t sample(Seq& s, std::span<const float> logits);  // under the grammar's mask, if any
  void fork(Active& a, Seq& parent);

  const Model& model_;
  const Tokenizer& tok_;
  std::unique_ptr<grammar::TokenTrie> trie_;  // built on the first constrained request
  std::unordered_map<const grammar::Grammar*, std::weak_ptr<grammar::Matcher>> matchers_;
  EngineOptions opt_;
  KvPool kv_;
  BlockManager blocks_;
  Forward fwd_;

  // Submission side (any thread).
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<GenRequest>> incoming_;
  bool stop_ = false;

  // Engine thread only.
  std::deque<std::shared_ptr<GenRequest>> waiting_;
  std::vector<std::unique_ptr<Active>> active_;
  int64_t reserved_ = 0;  // blocks promised to admitted sequences and not yet allocated
  std::vector<int32_t> b_tokens_, b_pos_, b_seq_, b_rows_;
  std::vector<SeqBlocks> b_seqs_;
  std::vector<Seq*> b_row_seq_;  // sequence of each logits row
  std::vector<Seq*> b_seq_ptr_;  // sequence of each batch sequence index
  std::vector<float> logits_;    // [max_running + max prefill completions, n_vocab]
  int64_t max_logit_rows_;

  // Counters read by stats() from other threads.
  std::atomic<int64_t> n_queue_{0}, n_running_{0}, kv_used_{0}, kv_cached_{0};
  std::atomic<int64_t> prompt_tokens_{0}, cached_tokens_{0}, generated_{0}, steps_{0};

  std::thread thread_;  // last: started after everything else is constructed
};

}  // namespace minima
