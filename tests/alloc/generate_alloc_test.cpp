// The token loop allocates nothing: a random-weight model of TinyLlama-1.1B's real shape is written
// with the GGUF writer, then generate() — the loop behind `minima generate` — runs with every
// operator new in this binary counted from the first sampled token until the loop returns.
// (Its own binary: replacing the global allocator affects everything linked with it.)
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>

#include "core/kernels/kernels.hpp"
#include "model/random_model.hpp"
#include "runtime/engine/generate.hpp"
#include "support/test_support.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<size_t> g_allocs{0};

void* counted_alloc(size_t n, size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = align > alignof(std::max_align_t)
                ? std::aligned_alloc(align, (n + align - 1) / align * align)
                : std::malloc(n);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(size_t n) {
  return counted_alloc(n, 0);
}
void* operator new[](size_t n) {
  return counted_alloc(n, 0);
}
void* operator new(size_t n, std::align_val_t a) {
  return counted_alloc(n, static_cast<size_t>(a));
}
void* operator new[](size_t n, std::align_val_t a) {
  return counted_alloc(n, static_cast<size_t>(a));
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace minima {
namespace {

TEST(TokenLoop, NoHeapAllocationWhileGeneratingWithTinyLlamaShape) {
  const auto dir = test::temp_dir("alloc");
  const auto path = dir / "tinyllama-q4_0.gguf";
  ThreadPool pool(2);
  const auto shape = model_preset("tinyllama-1.1b");
  ASSERT_TRUE(shape.has_value());
  write_random_model(*shape, DType::Q4_0, 42, path, pool);

  const Model model = Model::load(path);
  EXPECT_EQ(model.hparams().n_layer, 22);
  EXPECT_EQ(model.hparams().n_vocab, 32000);
  EXPECT_GT(model.n_params(), 1'000'000'000u);
  const Tokenizer tok = Tokenizer::from_gguf(model.file());
  const auto prompt = tok.encode("Once upon a time", true, false);

  constexpr int64_t kTokens = 12;
  SessionOptions so;
  so.n_ctx = static_cast<int64_t>(prompt.size()) + kTokens;
  Session s(model, kernels_for(detect_isa()), pool, so);
  SamplingParams sp;  // the default sampling chain: penalties, top-k, top-p, min-p, temperature
  sp.repeat_penalty = 1.1f;
  sp.presence_penalty = 0.5f;
  sp.frequency_penalty = 0.5f;
  sp.logit_bias = {{5, 1.0f}};
  Sampler sampler(model.hparams().n_vocab, sp);
  GenerateOptions go;
  go.n_predict = kTokens;
  go.ignore_eos = true;
  go.stop = {"never-generated-stop-string"};
  std::string text;
  text.reserve(1 << 16);
  int64_t n_tok = 0;

  g_allocs = 0;
  const GenerateResult r = generate(
      s, tok, sampler, prompt, go,
      [&](std::string_view t) {
        text += t;
        return true;
      },
      [&](int32_t) {
        if (n_tok++ == 0) g_counting = true;  // the loop has started
      });
  g_counting = false;

  EXPECT_EQ(r.n_generated, kTokens);
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(g_allocs.load(), 0u) << "heap allocations inside the token loop";
  std::printf("tinyllama-1.1b Q4_0 random: %lld tokens, %.2f tok/s, text: %s\n",
              static_cast<long long>(r.n_generated), double(r.n_generated) / r.gen_seconds,
              text.c_str());
  std::filesystem::remove_all(dir);
}

TEST(TokenLoop, CounterSeesAllocations) {
  // The instrument itself works: an allocation while counting is seen.
  g_allocs = 0;
  g_counting = true;
  static std::vector<int>* volatile sink = nullptr;  // escapes, so the allocation cannot be elided
  sink = new std::vector<int>(100);
  g_counting = false;
  delete sink;
  EXPECT_GE(g_allocs.load(), 1u);
}

}  // namespace
}  // namespace minima
