#include "train/data_prepare.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <exception>
#include <fstream>
#include <span>
#include <system_error>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "train/corpus.hpp"
#include "train/rng.hpp"
#include "train/shard.hpp"

namespace minima::train {

namespace {

// Documents are encoded in parallel in batches of about this many bytes of text.
constexpr size_t kBatchBytes = size_t{16} << 20;

struct Document {
  uint64_t begin, end;  // token range in the concatenation of all documents
};

// Documents in input order, their tokens concatenated (each followed by <|endoftext|>).
struct Tokenized {
  std::vector<int32_t> tokens;
  std::vector<Document> docs;
  std::vector<uint8_t> is_eval;
};

class Encoder {
 public:
  Encoder(const Tokenizer& tok, int32_t eot, int threads, const DataPrepareOptions& opt,
          DataPrepareResult& res, Tokenized& out)
      : tok_(tok), eot_(eot), pool_(threads), opt_(opt), res_(res), out_(out) {}

  void add(std::string_view text, uint32_t input) {
    texts_.emplace_back(text);
    input_.push_back(input);
    bytes_ += text.size();
    if (bytes_ >= kBatchBytes) flush();
  }

  void flush() {
    const size_t n = texts_.size();
    encoded_.resize(n);
    std::vector<std::exception_ptr> errors(static_cast<size_t>(pool_.size()));
    pool_.run([&](int ith, int nth) {
      try {
        for (size_t d = n * size_t(ith) / size_t(nth); d < n * size_t(ith + 1) / size_t(nth); ++d) {
          encoded_[d] = tok_.encode(texts_[d], /*add_special=*/false, /*parse_special=*/true);
        }
      } catch (...) {
        errors[static_cast<size_t>(ith)] = std::current_exception();
      }
    });
    for (const auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
    for (size_t d = 0; d < n; ++d) {
      const uint64_t index = out_.docs.size();
      const bool eval = is_eval_document(opt_.seed, index, opt_.eval_fraction);
      const uint64_t begin = out_.tokens.size();
      out_.tokens.insert(out_.tokens.end(), encoded_[d].begin(), encoded_[d].end());
      out_.tokens.push_back(eot_);
      out_.docs.push_back({begin, out_.tokens.size()});
      out_.is_eval.push_back(eval ? 1 : 0);
      InputCounts& in = res_.inputs[input_[d]];
      in.bytes += texts_[d].size();
      SplitCounts& c = eval ? in.eval : in.train;
      c.documents += 1;
      c.tokens += encoded_[d].size() + 1;
    }
    texts_.clear();
    input_.clear();
    encoded_.clear();
    bytes_ = 0;
  }

 private:
  const Tokenizer& tok_;
  int32_t eot_;
  ThreadPool pool_;
  const DataPrepareOptions& opt_;
  DataPrepareResult& res_;
  Tokenized& out_;
  std::vector<std::string> texts_;
  std::vector<uint32_t> input_;
  std::vector<std::vector<int32_t>> encoded_;
  size_t bytes_ = 0;
};

// Writes the documents with the given indices, in that order.
void write_split(const std::filesystem::path& path, uint32_t n_vocab, const Tokenized& t,
                 std::span<const uint64_t> order) {
  ShardWriter w(path, n_vocab);
  const std::span<const int32_t> all(t.tokens);
  for (const uint64_t i : order) {
    const Document& d = t.docs[i];
    w.append(all.subspan(d.begin, d.end - d.begin));
  }
  w.finish();
}

nlohmann::ordered_json split_json(const SplitCounts& c) {
  return {{"documents", c.documents}, {"tokens", c.tokens}};
}

void write_meta(const std::filesystem::path& path, const DataPrepareOptions& opt,
                const DataPrepareResult& r) {
  nlohmann::ordered_json j;
  j["format"] = std::string(kShardMagic, sizeof kShardMagic);
  j["tokenizer"] = opt.tokenizer.string();
  j["n_vocab"] = r.n_vocab;
  j["eot_id"] = r.eot_id;
  j["seed"] = opt.seed;
  j["eval_fraction"] = opt.eval_fraction;
  j["splits"] = {{"train", split_json(r.train)}, {"eval", split_json(r.eval)}};
  j["splits"]["train"]["file"] = "train.tok";
  j["splits"]["eval"]["file"] = "eval.tok";
  nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
  for (const InputCounts& in : r.inputs) {
    inputs.push_back({{"path", in.path.string()},
                      {"bytes", in.bytes},
                      {"documents", in.train.documents + in.eval.documents},
                      {"tokens", in.train.tokens + in.eval.tokens},
                      {"train", split_json(in.train)},
                      {"eval", split_json(in.eval)}});
  }
  j["inputs"] = std::move(inputs);
  const std::string text = j.dump(2) + "\n";

  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) fail(tmp.string(), ": cannot create file");
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.flush();
    if (!f) fail(tmp.string(), ": write failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    fail(path.string(), ": cannot rename the finished file into place: ", ec.message());
  }
}

}  // namespace

bool is_eval_document(uint64_t seed, uint64_t doc_index, double eval_fraction) {
  return uniform01(seed, kEvalSplitStream, doc_index) < eval_fraction;
}

DataPrepareResult prepare_data(const Tokenizer& tok, const DataPrepareOptions& opt) {
  if (!(opt.eval_fraction >= 0.0 && opt.eval_fraction <= 1.0)) {
    fail("data prepare: eval fraction ", opt.eval_fraction, " is outside [0, 1]");
  }
  if (opt.inputs.empty()) fail("data prepare: no input files given");
  if (opt.inputs.size() > UINT32_MAX) fail("data prepare: too many input files");
  // The document separator: <|endoftext|>, else the vocabulary's end-of-sequence token (</s> of
  // SentencePiece models, so that shards can be made for existing models too).
  auto eot = tok.find("<|endoftext|>");
  if (!eot && tok.eos() >= 0) eot = tok.eos();
  if (!eot) {
    fail(opt.tokenizer.string(),
         ": the tokenizer has neither <|endoftext|> nor an end-of-sequence token (needed to separate "
         "documents)");
  }
  DataPrepareResult res;
  res.n_vocab = static_cast<uint32_t>(tok.n_vocab());
  res.eot_id = *eot;
  for (const auto& p : opt.inputs) res.inputs.push_back({p, 0, {}, {}});

  Tokenized t;
  {
    Encoder enc(tok, *eot, std::max(opt.threads, 1), opt, res, t);
    for (size_t i = 0; i < opt.inputs.size(); ++i) {
      for_each_document(opt.inputs[i], [&](const CorpusDocument& doc) {
        enc.add(doc.text, static_cast<uint32_t>(i));
      });
    }
    enc.flush();
  }

  std::vector<uint64_t> train_order, eval_order;
  for (uint64_t i = 0; i < t.docs.size(); ++i)
    (t.is_eval[i] ? eval_order : train_order).push_back(i);
  shuffle(train_order, opt.seed, kTrainShuffleStream);
  shuffle(eval_order, opt.seed, kEvalShuffleStream);
  for (const InputCounts& in : res.inputs) {
    res.train.documents += in.train.documents;
    res.train.tokens += in.train.tokens;
    res.eval.documents += in.eval.documents;
    res.eval.tokens += in.eval.tokens;
  }

  std::error_code ec;
  std::filesystem::create_directories(opt.out_dir, ec);
  if (ec) fail(opt.out_dir.string(), ": cannot create the output directory: ", ec.message());
  write_split(opt.out_dir / "train.tok", res.n_vocab, t, train_order);
  write_split(opt.out_dir / "eval.tok", res.n_vocab, t, eval_order);
  // Last, so a directory with meta.json holds complete shards.
  write_meta(opt.out_dir / "meta.json", opt, res);
  return res;
}

}  // namespace minima::train
