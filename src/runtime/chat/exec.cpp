// Statement execution: output, if/for/set, macros and call blocks, filter and with blocks.
#include "runtime/chat/error.hpp"
#include "runtime/chat/interp.hpp"
#include "runtime/chat/pystr.hpp"
#include "runtime/chat/value_str.hpp"

namespace minima::jinja {

namespace {

// A macro, or the `caller` of a call block. Free names resolve in the scope the macro was defined
// in; that scope is held weakly (it may hold the macro itself), falling back to the template root.
class MacroFn : public Callable {
 public:
  MacroFn(const Node& node, std::string name, std::weak_ptr<Scope> closure, ScopePtr root)
      : node_(node), name_(std::move(name)), closure_(std::move(closure)), root_(std::move(root)) {}

  Value call(Interp& in, CallArgs& args) const override {
    const Node& n = node_;
    ScopePtr parent = closure_.lock();
    auto scope = std::make_shared<Scope>();
    scope->parent = parent ? parent : root_.lock();
    if (!scope->parent) runtime_error("macro " + pystr::repr(name_) + " outlived its template");
    const size_t np = n.params.size();
    if (args.pos.size() > np && !n.uses_varargs) {
      type_error("macro " + pystr::repr(name_) + " takes not more than " + std::to_string(np) +
                 " argument(s)");
    }
    std::vector<const Value*> bound(np, nullptr);
    for (size_t i = 0; i < std::min(np, args.pos.size()); ++i) bound[i] = &args.pos[i];
    Dict extra_kw;
    Value caller = Value::undefined("No caller defined");
    for (const auto& [k, v] : args.kw) {
      size_t i = 0;
      while (i < np && n.params[i] != k) ++i;
      if (i < np && bound[i] == nullptr) {
        bound[i] = &v;
      } else if (k == "caller" && n.uses_caller) {
        caller = v;
      } else if (k == "caller" && node_.kind == NodeKind::Macro) {
        type_error("macro " + pystr::repr(name_) +
                   " was invoked with two values for the special caller argument. This is most "
                   "likely a bug.");
      } else if (n.uses_kwargs) {
        extra_kw.set(Value::string(k), v);
      } else {
        type_error("macro " + pystr::repr(name_) + " takes no keyword argument " + pystr::repr(k));
      }
    }
    for (size_t i = 0; i < np; ++i) {
      if (bound[i] != nullptr) {
        scope->set(n.params[i], *bound[i]);
      } else if (n.defaults[i]) {
        // Defaults are evaluated at call time in the macro's scope, so they may use earlier params.
        scope->set(n.params[i], in.eval(*n.defaults[i], scope));
      } else {
        scope->set(n.params[i],
                   Value::undefined("parameter " + pystr::repr(n.params[i]) + " was not provided"));
      }
    }
    if (n.uses_varargs) {
      List rest;
      for (size_t i = np; i < args.pos.size(); ++i) rest.push_back(args.pos[i]);
      scope->set("varargs", Value::tuple(std::move(rest)));
    }
    if (n.uses_kwargs) scope->set("kwargs", Value::dict(std::move(extra_kw)));
    if (n.uses_caller) scope->set("caller", caller);
    return in.make_string(in.render_body(n.body, scope));
  }

  std::string repr() const override { return "<Macro " + pystr::repr(name_) + ">"; }
  const char* type_name() const override { return "Macro"; }

 private:
  const Node& node_;
  std::string name_;
  std::weak_ptr<Scope> closure_;
  std::weak_ptr<Scope> root_;
};

}  // namespace

Interp::Interp(size_t max_output_bytes, int64_t max_steps, std::tm now)
    : max_output_(max_output_bytes), now_(now) {
  budget.steps_left = max_steps;
}

Interp::~Interp() {
  for (const auto& ns : namespaces_) ns->attrs = Dict();
}

void Interp::nesting_exceeded() {
  --nesting_;
  limit_error("template recursion is too deep (more than " + std::to_string(kMaxNesting) +
              " nested calls and expressions)");
}

Value Interp::new_namespace() {
  auto ns = std::make_shared<Namespace>();
  namespaces_.push_back(ns);
  return Value::ns(std::move(ns));
}

void Interp::check_size(size_t bytes) const {
  if (bytes > max_output_) {
    limit_error("template output exceeds " + std::to_string(max_output_) +
                " bytes (RenderOptions::max_output_bytes)");
  }
}

void Interp::charge_items(size_t n) {
  if (n > max_output_ / 8 + 1024) {
    limit_error("a list of " + std::to_string(n) +
                " items exceeds the size limit (RenderOptions::max_output_bytes / 8)");
  }
  charge(static_cast<int64_t>(n) * kStepsPerItem);
}

void Interp::put(std::string& out, std::string_view s) {
  check_size(out.size() + s.size());
  charge_bytes(s.size());
  out.append(s);
}

std::string Interp::str(const Value& v) {
  return to_str(v, max_output_);
}

Value Interp::make_string(std::string s, bool markup) {
  check_size(s.size());
  charge_bytes(s.size());
  return Value::string_like(std::move(s), markup);
}

std::string Interp::render(const Body& body, ScopePtr root) {
  root_ = std::move(root);
  std::string out;
  exec(body, root_, out);
  return out;
}

std::string Interp::render_body(const Body& body, const ScopePtr& scope) {
  std::string out;
  exec(body, scope, out);
  return out;
}

Interp::Flow Interp::exec(const Body& body, const ScopePtr& scope, std::string& out) {
  Nest nest(*this);
  for (const NodePtr& n : body) {
    charge(1);
    Flow f;
    try {
      f = exec_node(*n, scope, out);
    } catch (TemplateError& e) {
      e.set_line(n->line);
      throw;
    }
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

void Interp::assign(const Target& t, const Value& v, Scope& scope) {
  if (t.kind == Target::Kind::Name) {
    scope.set(t.name, v);
    return;
  }
  if (t.kind == Target::Kind::NsAttr) {
    const Value* ns = scope.find(t.name);
    if (ns == nullptr || !ns->is_namespace()) {
      runtime_error("cannot assign attribute on non-namespace object");
    }
    ns->ns().attrs.set(Value::string(t.attr), v);
    return;
  }
  if (!(v.is_sequence() || v.is_string() || v.is_dict() || v.is_undefined() || v.is_iterator())) {
    type_error("cannot unpack non-iterable " + type_name(v) + " object");
  }
  const List items = iterate(v);
  const size_t n = t.items.size();
  if (items.size() < n) {
    value_error("not enough values to unpack (expected " + std::to_string(n) + ", got " +
                std::to_string(items.size()) + ")");
  }
  if (items.size() > n) {
    value_error("too many values to unpack (expected " + std::to_string(n) + ")");
  }
  for (size_t i = 0; i < n; ++i) assign(t.items[i], items[i], scope);
}

Value Interp::make_macro(const Node& n, const ScopePtr& scope, const char* name) {
  std::weak_ptr<Scope> closure;
  if (scope != root_) closure = scope;
  return Value::callable(std::make_shared<MacroFn>(n, name, closure, root_));
}

Interp::Flow Interp::exec_node(const Node& n, const ScopePtr& scope, std::string& out) {
  switch (n.kind) {
    case NodeKind::Text:
      put(out, n.text);
      return Flow::Normal;
    case NodeKind::Output: {
      const Value v = eval(*n.expr, scope);
      if (v.is_string()) {
        put(out, v.str());
      } else {
        put(out, str(v));
      }
      return Flow::Normal;
    }
    case NodeKind::If:
      for (const auto& [cond, body] : n.branches) {
        if (!cond || truthy(eval(*cond, scope))) return exec(body, scope, out);
      }
      return Flow::Normal;
    case NodeKind::For:
      return exec_for(n, scope, out);
    case NodeKind::Set:
      assign(n.target, eval(*n.expr, scope), *scope);
      return Flow::Normal;
    case NodeKind::SetBlock: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      std::string text;
      if (const Flow f = exec(n.body, inner, text); f != Flow::Normal) return f;
      assign(n.target, apply_chain(n.expr.get(), make_string(std::move(text)), scope), *scope);
      return Flow::Normal;
    }
    case NodeKind::Macro:
      scope->set(n.name, make_macro(n, scope, n.name.c_str()));
      return Flow::Normal;
    case NodeKind::CallBlock: {
      const Value caller = make_macro(n, scope, "caller");
      put(out, str(eval_call(*n.expr, scope, &caller)));
      return Flow::Normal;
    }
    case NodeKind::FilterBlock: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      std::string text;
      // A break or continue inside the block leaves the loop iteration, dropping the block.
      if (const Flow f = exec(n.body, inner, text); f != Flow::Normal) return f;
      put(out, str(apply_chain(n.expr.get(), make_string(std::move(text)), scope)));
      return Flow::Normal;
    }
    case NodeKind::With: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      for (const auto& [target, expr] : n.assigns) assign(target, eval(*expr, scope), *inner);
      return exec(n.body, inner, out);
    }
    case NodeKind::Scope:
      return exec(n.body, scope, out);
    case NodeKind::Break:
      return Flow::Break;
    case NodeKind::Continue:
      return Flow::Continue;
  }
  return Flow::Normal;
}

Value Interp::apply_chain(const Expr* chain, Value v, const ScopePtr& scope) {
  // The chain is nested with the innermost filter taking the block's text.
  std::vector<const Expr*> filters;
  for (const Expr* f = chain; f != nullptr; f = f->a.get()) filters.push_back(f);
  for (auto it = filters.rbegin(); it != filters.rend(); ++it) v = apply_filter(**it, v, scope);
  return v;
}

Interp::Flow Interp::exec_for(const Node& n, const ScopePtr& scope, std::string& out) {
  const Value iterable = eval(*n.expr, scope);
  return run_loop(n, iterate(iterable), 0, scope, out);
}

Interp::Flow Interp::run_loop(const Node& n, List items, int depth0, const ScopePtr& scope,
                              std::string& out) {
  if (n.cond) {
    // Jinja filters before counting, so loop.length and loop.last see only the kept items.
    List kept;
    for (Value& item : items) {
      auto probe = std::make_shared<Scope>();
      probe->parent = scope;
      assign(n.target, item, *probe);
      if (truthy(eval(*n.cond, probe))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  // Jinja runs the else block unless some iteration reached the end of the body: an empty loop,
  // but also one whose every iteration ended in break or continue.
  bool completed = false;
  if (!items.empty()) {
    auto state = std::make_shared<LoopState>();
    state->items = Value::list(std::move(items));
    state->depth0 = depth0;
    state->node = &n;
    state->scope = scope;
    const Value loop = Value::loop(state, state->items.depth());
    const List& all = state->items.items();
    for (size_t i = 0; i < all.size(); ++i) {
      charge(1);
      state->index0 = i;
      auto iter = std::make_shared<Scope>();
      iter->parent = scope;
      assign(n.target, all[i], *iter);
      iter->set("loop", loop);
      const Flow f = exec(n.body, iter, out);
      if (f == Flow::Normal) completed = true;
      if (f == Flow::Break) break;
    }
  }
  if (!completed && !n.else_body.empty()) return exec(n.else_body, scope, out);
  return Flow::Normal;
}

}  // namespace minima::jinja
