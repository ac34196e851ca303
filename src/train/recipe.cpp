#include "train/recipe.hpp"

#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "core/error.hpp"

namespace minima::train {
namespace {

// Typed access with the key path in every message, and a record of the keys used so that unknown
// ones can be reported.
class Section {
 public:
  Section(const toml::table* t, std::string name, const std::filesystem::path& file)
      : t_(t), name_(std::move(name)), file_(file) {}

  template <class T>
  T get(const std::string& key, std::optional<T> def) {
    used_.insert(key);
    const toml::node* n = t_ ? t_->get(key) : nullptr;
    if (n == nullptr) {
      if (!def) fail(file_.string(), ": [", name_, "] ", key, " is required");
      return *def;
    }
    if constexpr (std::is_same_v<T, bool>) {
      if (auto v = n->value_exact<bool>()) return *v;
      fail(file_.string(), ": [", name_, "] ", key, " must be true or false");
    } else if constexpr (std::is_integral_v<T>) {
      if (auto v = n->value_exact<int64_t>()) return T(*v);
      fail(file_.string(), ": [", name_, "] ", key, " must be an integer");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (auto v = n->value<double>()) return T(*v);
      fail(file_.string(), ": [", name_, "] ", key, " must be a number");
    } else {
      if (auto v = n->value_exact<std::string>()) return *v;
      fail(file_.string(), ": [", name_, "] ", key, " must be a string");
    }
  }

  void reject_unknown() const {
    if (t_ == nullptr) return;
    for (const auto& [k, v] : *t_) {
      if (!used_.count(std::string(k.str())))
        fail(file_.string(), ": unknown key [", name_, "] ", k.str());
    }
  }

 private:
  const toml::table* t_;
  std::string name_;
  const std::filesystem::path& file_;
  std::set<std::string> used_;
};

uint64_t fnv(uint64_t h, const std::string& s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

}  // namespace

uint64_t Recipe::trajectory_hash() const {
  std::ostringstream o;
  const ModelConfig& m = model;
  o << m.n_vocab << ' ' << m.n_embd << ' ' << m.n_layer << ' ' << m.n_head << ' ' << m.n_head_kv
    << ' ' << m.n_ff << ' ' << m.n_ctx << ' ' << m.rope_base << ' ' << m.rms_eps << ' '
    << m.tied_output << '|' << train_data.string() << '|' << opt.lr << ' ' << opt.min_lr << ' '
    << opt.warmup << ' ' << opt.steps << ' ' << opt.beta1 << ' ' << opt.beta2 << ' ' << opt.eps
    << ' ' << opt.weight_decay << ' ' << opt.grad_clip << '|' << seed << ' ' << batch << ' '
    << accum << ' ' << precision;
  if (m.head_dim_override > 0) o << " hd " << m.head_dim_override;  // older recipes: same hash
  return fnv(0xCBF29CE484222325ull, o.str());
}

Recipe load_recipe(const std::filesystem::path& path) {
  toml::table root;
  try {
    root = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    fail(path.string(), ":", src.begin.line, ":", src.begin.column, ": ", e.description());
  }
  for (const auto& [k, v] : root) {
    const std::string key(k.str());
    if (key != "model" && key != "data" && key != "train" && key != "export")
      fail(path.string(), ": unknown section or key '", key, "' (sections: model, data, train, export)");
    if (!v.is_table()) fail(path.string(), ": '", key, "' must be a [section]");
  }
  Recipe r;
  r.source = path;
  Section m(root["model"].as_table(), "model", path);
  r.model.n_embd = m.get<int64_t>("n_embd", {});
  r.model.n_layer = m.get<int64_t>("n_layer", {});
  r.model.n_head = m.get<int64_t>("n_head", {});
  r.model.n_head_kv = m.get<int64_t>("n_head_kv", r.model.n_head);
  r.model.n_ff = m.get<int64_t>("n_ff", {});
  r.model.n_ctx = m.get<int64_t>("n_ctx", {});
  r.model.rope_base = m.get<float>("rope_base", 10000.0f);
  r.model.rms_eps = m.get<float>("rms_eps", 1e-5f);
  r.model.tied_output = m.get<bool>("tied_output", true);
  r.model.head_dim_override = m.get<int64_t>("head_dim", 0);
  m.reject_unknown();

  Section d(root["data"].as_table(), "data", path);
  r.tokenizer = d.get<std::string>("tokenizer", {});
  r.train_data = d.get<std::string>("train", {});
  r.eval_data = d.get<std::string>("eval", std::string());
  d.reject_unknown();

  Section t(root["train"].as_table(), "train", path);
  r.seed = t.get<uint64_t>("seed", 1);
  r.opt.steps = t.get<int64_t>("steps", {});
  r.batch = t.get<int64_t>("batch", {});
  r.accum = t.get<int64_t>("accum", 1);
  r.opt.lr = t.get<float>("lr", {});
  r.opt.min_lr = t.get<float>("min_lr", r.opt.lr / 10);
  r.opt.warmup = t.get<int64_t>("warmup", 0);
  r.opt.weight_decay = t.get<float>("weight_decay", 0.1f);
  r.opt.beta1 = t.get<float>("beta1", 0.9f);
  r.opt.beta2 = t.get<float>("beta2", 0.95f);
  r.opt.eps = t.get<float>("eps", 1e-8f);
  r.opt.grad_clip = t.get<float>("grad_clip", 1.0f);
  r.precision = t.get<std::string>("precision", std::string("auto"));
  r.threads = t.get<int>("threads", 0);
  r.eval_every = t.get<int64_t>("eval_every", 0);
  r.eval_batches = t.get<int64_t>("eval_batches", 4);
  r.checkpoint_every = t.get<int64_t>("checkpoint_every", 0);
  r.checkpoint_dir = t.get<std::string>("checkpoint_dir", std::string());
  r.log_every = t.get<int64_t>("log_every", 10);
  t.reject_unknown();

  Section x(root["export"].as_table(), "export", path);
  r.out = x.get<std::string>("out", {});
  r.out_type = x.get<std::string>("type", std::string("F16"));
  r.name = x.get<std::string>("name", std::string("minima"));
  x.reject_unknown();

  r.opt.validate();
  if (r.batch <= 0) fail(path.string(), ": [train] batch must be positive");
  if (r.accum <= 0) fail(path.string(), ": [train] accum must be positive");
  if (r.precision != "auto" && r.precision != "f32" && r.precision != "bf16")
    fail(path.string(), ": [train] precision must be \"auto\", \"f32\" or \"bf16\", got \"",
         r.precision, "\"");
  if (r.threads < 0 || r.threads > 1024) fail(path.string(), ": [train] threads must be 0..1024");
  if (r.eval_every < 0 || r.eval_batches <= 0 || r.checkpoint_every < 0 || r.log_every <= 0)
    fail(path.string(), ": [train] eval_every / checkpoint_every must be >= 0, eval_batches and "
                        "log_every positive");
  if (r.checkpoint_every > 0 && r.checkpoint_dir.empty())
    fail(path.string(), ": [train] checkpoint_every needs checkpoint_dir");
  if (r.out_type != "F16" && r.out_type != "F32" && r.out_type != "Q8_0")
    fail(path.string(), ": [export] type must be F16, F32 or Q8_0, got ", r.out_type);
  return r;
}

}  // namespace minima::train
