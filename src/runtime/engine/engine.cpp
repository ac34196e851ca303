#include "runtime/engine/engine.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "runtime/engine/stop_matcher.hpp"

namespace minima {

struct Engine::Seq {
  Active* owner = nullptr;
  int choice = 0;
  std::vector<int32_t> blocks;  // block table, position order
  std::vector<int32_t> tokens;  // prompt + generated
  int64_t n_prompt = 0;
  int64_t n_computed = 0;    // tokens whose K/V are in the pool
  int64_t reserve_left = 0;  // blocks this sequence may still allocate (promised at admission)
  int64_t generated = 0;
  bool done = false;
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<StreamDecoder> dec;
  std::unique_ptr<StopMatcher> stops;
  std::string piece;
  std::unique_ptr<grammar::Constraint> constraint;  // request with a grammar
  std::string bytes;                                // a sampled token's bytes, for constraint
};

struct Engine::Active {
  std::shared_ptr<GenRequest> req;
  std::vector<std::unique_ptr<Seq>> seqs;
  std::vector<uint64_t> prompt_hashes;  // chain hash of every full prompt block
  int64_t registered = 0;               // prompt blocks registered in the prefix cache
  int64_t cached_tokens = 0;
  int64_t completion_tokens = 0;
  int choices_done = 0;
  bool forked = false;
};

namespace {
int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
}  // namespace

Engine::Engine(const Model& model, const Tokenizer& tok, const KernelSet& kernels, ThreadPool& pool,
               EngineOptions opt)
    : model_(model),
      tok_(tok),
      opt_(opt),
      kv_(model.hparams(),
          opt.kv_blocks > 0 ? opt.kv_blocks : 4 * ceil_div(opt.n_ctx, Session::kBlockSize),
          Session::kBlockSize),
      blocks_(kv_.n_blocks(), kv_.block_size()),
      fwd_(model, kernels, pool, opt.max_batch, false),
      max_logit_rows_(opt.max_running) {
  if (opt.n_ctx <= 0 || opt.max_batch <= 0 || opt.prefill_chunk <= 0 || opt.max_running <= 0 ||
      opt.max_queue <= 0)
    fail("engine: n_ctx, max_batch, prefill_chunk, max_running and max_queue must be positive");
  opt_.kv_blocks = kv_.n_blocks();
  const auto B = static_cast<size_t>(opt.max_batch);
  b_tokens_.resize(B);
  b_pos_.resize(B);
  b_seq_.resize(B);
  b_rows_.resize(B);
  b_row_seq_.resize(B);
  logits_.resize(static_cast<size_t>(max_logit_rows_ * model.hparams().n_vocab));
  kv_used_ = 0;
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool Engine::submit(std::shared_ptr<GenRequest> r) {
  {
    std::lock_guard lk(mu_);
    if (static_cast<int64_t>(incoming_.size()) + n_queue_.load() >= opt_.max_queue) return false;
    incoming_.push_back(std::move(r));
    ++n_queue_;
  }
  cv_.notify_one();
  return true;
}

EngineStats Engine::stats() const {
  EngineStats s;
  s.queue_depth = n_queue_;
  s.running = n_running_;
  s.kv_blocks_total = opt_.kv_blocks;
  s.kv_blocks_used = kv_used_;
  s.kv_blocks_cached = kv_cached_;
  s.prompt_tokens = prompt_tokens_;
  s.cached_prompt_tokens = cached_tokens_;
  s.generated_tokens = generated_;
  s.steps = steps_;
  return s;
}

void Engine::loop() {
  for (;;) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(
          lk, [&] { return stop_ || !incoming_.empty() || !active_.empty() || !waiting_.empty(); });
      if (stop_) break;
      while (!incoming_.empty()) {
        waiting_.push_back(std::move(incoming_.front()));
        incoming_.pop_front();
      }
    }
    try {
      admit();
      step();
    } catch (const std::exception& e) {
      // A failure inside a step is a bug, not bad input (inputs are validated before they get
      // here); fail every request in flight instead of taking the process down.
      for (auto& a : active_) {
        Event ev;
        ev.kind = Event::Kind::Error;
        ev.error = std::string("internal error: ") + e.what();
        a->req->events.push(std::move(ev));
        drop_request(*a);
      }
      active_.clear();
    }
    int64_t running = 0;
    for (const auto& a : active_)
      for (const auto& s : a->seqs) running += !s->done;
    n_running_ = running;
    n_queue_ = static_cast<int64_t>(waiting_.size());
    kv_used_ = blocks_.in_use();
    kv_cached_ = blocks_.cached();
  }
  for (auto& a : active_) drop_request(*a);
}

void Engine::admit() {
  const int64_t bs = kv_.block_size();
  while (!waiting_.empty()) {
    std::shared_ptr<GenRequest>& r = waiting_.front();
    auto reject = [&](std::string msg, int status) {
      Event ev;
      ev.kind = Event::Kind::Error;
      ev.error = std::move(msg);
      ev.http_status = status;
      r->events.push(std::move(ev));
      waiting_.pop_front();
    };
    if (r->cancelled) {
      waiting_.pop_front();
      continue;
    }
    const auto P = static_cast<int64_t>(r->prompt.size());
    if (P == 0 || r->n < 1 || r->max_tokens < 1 || P + r->max_tokens > opt_.n_ctx) {
      reject("prompt of " + std::to_string(P) + " tokens + max_tokens " +
                 std::to_string(r->max_tokens) + " does not fit the context of " +
                 std::to_string(opt_.n_ctx) + " tokens",
             400);
      continue;
    }
    int64_t running = 0;
    for (const auto& a : active_)
      for (const auto& s : a->seqs) running += !s->done;
    if (running + r->n > opt_.max_running) break;

    // Blocks: choice 0 reuses the cached prefix; forks share the full prompt blocks.
    const int64_t per_choice = ceil_div(P + r->max_tokens, bs);
    const int64_t fork_new = per_choice - P / bs;
    std::vector<int32_t> matched;
    const uint64_t tenant = BlockManager::tenant_seed(r->tenant);
    auto hashes = blocks_.match_prefix(tenant, r->prompt, (P - 1) / bs, matched);
    const int64_t need =
        (per_choice - static_cast<int64_t>(matched.size())) + (r->n - 1) * fork_new;
    if (need > blocks_.available() - reserved_) {
      for (int32_t b : matched) blocks_.release(b);
      if (active_.empty() && need > blocks_.available()) {
        reject("request needs " + std::to_string(need) + " KV blocks but the pool has " +
                   std::to_string(blocks_.available()) +
                   "; lower max_tokens or n, or start with more --kv-blocks",
               400);
        continue;
      }
      break;  // FIFO: wait for running sequences to free blocks
    }
    auto a = std::make_unique<Active>();
    a->req = std::move(r);
    waiting_.pop_front();
    a->prompt_hashes = std::move(hashes);
    a->registered = static_cast<int64_t>(matched.size());
    a->cached_tokens = static_cast<int64_t>(matched.size()) * bs;
    auto s = std::make_unique<Seq>();
    s->owner = a.get();
    s->blocks = std::move(matched);
    s->tokens = a->req->prompt;
    s->tokens.reserve(static_cast<size_t>(P + a->req->max_tokens));
    s->n_prompt = P;
    s->n_computed = a->cached_tokens;
    s->reserve_left = per_choice - static_cast<int64_t>(s->blocks.size());
    // The forks' share stays in reserved_ (held by the request) until they exist.
    reserved_ += need;
    a->seqs.push_back(std::move(s));
    prompt_tokens_ += P;
    cached_tokens_ += a->cached_tokens;
    active_.push_back(std::move(a));
  }
}

void Engine::drop_request(Active& a) {
  const int64_t bs = kv_.block_size();
  for (auto& s : a.seqs) {
    if (s->done) continue;
    for (int32_t b : s->blocks) blocks_.release(b);
    s->blocks.clear();
    reserved_ -= s->reserve_left;
    s->reserve_left = 0;
    s->done = true;
  }
  if (!a.forked && a.req->n > 1) {
    const int64_t P = static_cast<int64_t>(a.req->prompt.size());
    reserved_ -= (a.req->n - 1) * (ceil_div(P + a.req->max_tokens, bs) - P / bs);
    a.forked = true;
  }
}

void Engine::finish_choice(Seq& s, const char* reason) {
  Active& a = *s.owner;
  for (int32_t b : s.blocks) blocks_.release(b);
  s.blocks.clear();
  reserved_ -= s.reserve_left;
  s.reserve_left = 0;
  s.done = true;
  Event ev;
  ev.kind = Event::Kind::ChoiceDone;
  ev.choice = s.choice;
  ev.finish_reason = reason;
  a.req->events.push(std::move(ev));
  if (++a.choices_done == a.req->n) {
    Event done;
    done.kind = Event::Kind::Done;
    done.usage.prompt_tokens = static_cast<int64_t>(a.req->prompt.size());
    done.usage.completion_tokens = a.completion_tokens;
    done.usage.cached_tokens = a.cached_tokens;
    a.req->events.push(std::move(done));
  }
}

// Choices 1..n-1 start from choice 0 right after its prompt: they share its full prompt blocks and
// get a copy of the partly filled last one.
void Engine::fork(Active& a, Seq& parent) {
  const int64_t bs = kv_.block_size();
  const int64_t P = parent.n_prompt;
  for (int i = 1; i < a.req->n; ++i) {
    auto s = std::make_unique<Seq>();
    s->owner = &a;
    s->choice = i;
    s->tokens = parent.tokens;
    s->tokens.reserve(static_cast<size_t>(P + a.req->max_tokens));
    s->n_prompt = P;
    s->n_computed = parent.n_computed;
    s->reserve_left = ceil_div(P + a.req->max_tokens, bs) - P / bs;
    for (int64_t b = 0; b < P / bs; ++b) {
      blocks_.retain(parent.blocks[static_cast<size_t>(b)]);
      s->blocks.push_back(parent.blocks[static_cast<size_t>(b)]);
    }
    if (P % bs != 0) {
      const auto nb = blocks_.allocate();
      if (!nb) fail("engine: KV reservation violated while forking");
      --s->reserve_left;
      --reserved_;
      kv_.copy_block(parent.blocks[static_cast<size_t>(P / bs)], *nb);
      s->blocks.push_back(*nb);
    }
    SamplingParams sp = a.req->sampling;
    sp.seed += static_cast<uint64_t>(i);
    s->sampler = std::make_unique<Sampler>(model_.hparams().n_vocab, sp);
    for (int32_t t : s->tokens) s->sampler->accept(t);
    s->dec = std::make_unique<StreamDecoder>(tok_);
    s->stops = std::make_unique<StopMatcher>(a.req->stop);
    init_grammar(*s);
    a.seqs.push_back(std::move(s));
  }
  a.forked = true;
}

void Engine::init_grammar(Seq& s) {
  const auto& g = s.owner->req->grammar;
  if (!g) return;
  if (!trie_)
    trie_ = std::make_unique<grammar::TokenTrie>(grammar::TokenTrie::from_tokenizer(tok_));
  // Sequences under the same grammar share one matcher (the engine thread is its only user), so
  // the states and masks one request warmed up serve the next.
  auto& slot = matchers_[g.get()];
  std::shared_ptr<grammar::Matcher> m = slot.lock();
  if (!m) {
    m = std::make_shared<grammar::Matcher>(g);
    slot = m;
  }
  if (matchers_.size() > 256)
    std::erase_if(matchers_, [](const auto& kv) { return kv.second.expired(); });
  s.constraint =
      std::make_unique<grammar::Constraint>(std::move(m), *trie_, s.owner->req->grammar_trigger);
}

int32_t Engine::sample(Seq& s, std::span<const float> logits) {
  return s.sampler->sample(logits,
                           s.constraint ? s.constraint->mask() : std::span<const uint64_t>{});
}

void Engine::emit_token(Seq& s, int32_t token, std::span<const float> logits) {
  Active& a = *s.owner;
  const GenRequest& r = *a.req;
  Event ev;
  ev.kind = Event::Kind::Delta;
  ev.choice = s.choice;
  if (r.top_logprobs >= 0) {
    const float mx = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float l : logits) sum += std::exp(double(l - mx));
    const float lse = mx + static_cast<float>(std::log(sum));
    TokenLogprob lp;
    lp.token = token;
    lp.text = tok_.token_to_piece(token, true);
    lp.logprob = logits[static_cast<size_t>(token)] - lse;
    if (r.top_logprobs > 0) {
      std::vector<int32_t> idx(logits.size());
      std::iota(idx.begin(), idx.end(), 0);
      const auto k = std::min<size_t>(static_cast<size_t>(r.top_logprobs), idx.size());
      std::partial_sort(
          idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
          [&](int32_t x, int32_t y) {
            return logits[static_cast<size_t>(x)] > logits[static_cast<size_t>(y)] ||
                   (logits[static_cast<size_t>(x)] == logits[static_cast<size_t>(y)] && x < y);
          });
      for (size_t i = 0; i < k; ++i)
        lp.top.push_back(
            {idx[i], tok_.token_to_piece(idx[i], true), logits[static_cast<size_t>(idx[i])] - lse});
    }
    ev.logprobs.push_back(std::move(lp));
  }
  s.sampler->accept(token);
  s.tokens.push_back(token);
  ++s.generated;
  ++a.completion_tokens;
  ++generated_;

  const char* finish = nullptr;
  auto release = [&](std::string_view text) { ev.text += text; };
  bool grammar_done = false;  // the choice ends without an EOS (Constraint::done)
  if (s.constraint && !tok_.is_eog(token)) {
    s.bytes.clear();
    tok_.append_piece(token, false, s.bytes);
    s.constraint->accept(s.bytes);
    grammar_done = s.constraint->done();
  }
  if ((!r.ignore_eos || s.constraint) && tok_.is_eog(token)) {
    finish = "stop";
  } else {
    s.piece.clear();
    s.dec->push(token, s.piece);
    if (s.stops->push(s.piece, release)) {
      finish = "stop";
    } else if (grammar_done || s.generated >= r.max_tokens) {
      s.piece.clear();
      s.dec->flush(s.piece);
      if (s.stops->push(s.piece, release)) {
        finish = "stop";
      } else {
        release(s.stops->tail());
        finish = grammar_done ? "stop" : "length";
      }
    }
  }
  if (!ev.text.empty() || !ev.logprobs.empty()) a.req->events.push(std::move(ev));
  if (finish) finish_choice(s, finish);
}

bool Engine::step() {
  // Cancelled requests (client gone) give their blocks back at once.
  for (auto& a : active_)
    if (a->req->cancelled) drop_request(*a);
  std::erase_if(active_, [](const std::unique_ptr<Active>& a) {
    return std::all_of(a->seqs.begin(), a->seqs.end(), [](const auto& s) { return s->done; }) &&
           (a->forked || a->req->n == 1 || a->req->cancelled);
  });

  const int64_t bs = kv_.block_size();
  const auto max_rows = static_cast<size_t>(opt_.max_batch);
  size_t rows = 0, lrows = 0;
  b_seq_ptr_.clear();
  auto add_rows = [&](Seq& s, int64_t k, bool logits_at_end) {
    b_seq_ptr_.push_back(&s);
    for (int64_t i = 0; i < k; ++i) {
      const int64_t pos = s.n_computed + i;
      if (pos / bs >= static_cast<int64_t>(s.blocks.size())) {
        const auto nb = blocks_.allocate();
        if (!nb || s.reserve_left <= 0) fail("engine: KV reservation violated");
        --s.reserve_left;
        --reserved_;
        s.blocks.push_back(*nb);
      }
      b_tokens_[rows] = s.tokens[static_cast<size_t>(pos)];
      b_pos_[rows] = static_cast<int32_t>(pos);
      b_seq_[rows] = static_cast<int32_t>(b_seq_ptr_.size() - 1);
      if (logits_at_end && i == k - 1) {
        b_rows_[lrows] = static_cast<int32_t>(rows);
        b_row_seq_[lrows++] = &s;
      }
      ++rows;
    }
  };
  // Decode rows first (one per running sequence), then prompt chunks in arrival order.
  for (auto& a : active_)
    for (auto& s : a->seqs)
      if (!s->done && s->n_computed >= s->n_prompt && rows < max_rows) add_rows(*s, 1, true);
  const size_t n_decode = rows;
  for (auto& a : active_) {
    Seq& s = *a->seqs.front();
    if (s.done || s.n_computed >= s.n_prompt || rows >= max_rows ||
        lrows >= static_cast<size_t>(max_logit_rows_))
      continue;
    const int64_t k = std::min(
        {s.n_prompt - s.n_computed, opt_.prefill_chunk, static_cast<int64_t>(max_rows - rows)});
    add_rows(s, k, s.n_computed + k == s.n_prompt);
  }
  if (rows == 0) return false;

  // Block tables are final only now (rows may have grown them).
  b_seqs_.resize(b_seq_ptr_.size());
  for (size_t i = 0; i < b_seq_ptr_.size(); ++i)
    b_seqs_[i] = {b_seq_ptr_[i]->blocks.data(), static_cast<int64_t>(b_seq_ptr_[i]->blocks.size())};
  Batch batch;
  batch.tokens = std::span(b_tokens_.data(), rows);
  batch.pos = std::span(b_pos_.data(), rows);
  batch.seq = std::span(b_seq_.data(), rows);
  batch.seqs = b_seqs_;
  batch.logit_rows = std::span(b_rows_.data(), lrows);
  batch.n_decode = static_cast<int64_t>(n_decode);
  fwd_.run(batch, kv_, logits_.data());
  ++steps_;

  for (size_t i = 0; i < rows; ++i) ++b_seq_ptr_[static_cast<size_t>(b_seq_[i])]->n_computed;
  // Prompt blocks whose K/V are now complete join the prefix cache.
  for (auto& a : active_) {
    Seq& s0 = *a->seqs.front();
    while (!s0.done && a->registered < static_cast<int64_t>(a->prompt_hashes.size()) &&
           (a->registered + 1) * bs <= s0.n_computed) {
      const auto i = static_cast<size_t>(a->registered);
      blocks_.register_block(
          s0.blocks[i], a->prompt_hashes[i],
          std::span(s0.tokens).subspan(i * static_cast<size_t>(bs), static_cast<size_t>(bs)));
      ++a->registered;
    }
  }

  const int64_t V = model_.hparams().n_vocab;
  for (size_t r = 0; r < lrows; ++r) {
    Seq& s = *b_row_seq_[r];
    Active& a = *s.owner;
    const std::span<const float> lg(logits_.data() + r * static_cast<size_t>(V),
                                    static_cast<size_t>(V));
    if (!s.sampler) {  // choice 0 has just finished its prompt
      s.sampler = std::make_unique<Sampler>(V, a.req->sampling);
      for (int32_t t : s.tokens) s.sampler->accept(t);
      s.dec = std::make_unique<StreamDecoder>(tok_);
      s.stops = std::make_unique<StopMatcher>(a.req->stop);
      init_grammar(s);
      if (a.req->n > 1) {
        fork(a, s);  // every choice draws its first token from these logits
        for (auto& c : a.seqs) emit_token(*c, sample(*c, lg), lg);
        continue;
      }
    }
    emit_token(s, sample(s, lg), lg);
  }
  return true;
}

}  // namespace minima
