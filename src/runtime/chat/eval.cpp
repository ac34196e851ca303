// Expression evaluation.
#include "runtime/chat/error.hpp"
#include "runtime/chat/interp.hpp"
#include "runtime/chat/ops.hpp"
#include "runtime/chat/parser.hpp"
#include "runtime/chat/pystr.hpp"
#include "runtime/chat/value_str.hpp"

namespace minima::jinja {

const Value* Scope::find(std::string_view name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent.get()) {
    for (const auto& [k, v] : s->vars) {
      if (k == name) return &v;
    }
  }
  return nullptr;
}

void Scope::set(std::string_view name, Value v) {
  for (auto& [k, old] : vars) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  vars.emplace_back(std::string(name), std::move(v));
}

Value Interp::lookup(const std::string& name, const ScopePtr& scope) {
  if (const Value* v = scope->find(name)) return *v;
  Value g = lookup_global(name);
  if (!g.is_undefined()) return g;
  return Value::undefined(pystr::repr(name) + " is undefined");
}

Value Interp::eval(const Expr& e, const ScopePtr& scope) {
  Nest nest(*this);
  charge(1);
  return eval_inner(e, scope);
}

namespace {

void collect_args(Interp& in, const Expr& e, const ScopePtr& scope, CallArgs& args) {
  args.pos.reserve(e.items.size());
  for (const ExprPtr& a : e.items) args.pos.push_back(in.eval(*a, scope));
  for (const auto& [k, v] : e.kwargs) args.kw.emplace_back(k, in.eval(*v, scope));
  if (e.star_args) {
    for (Value& v : in.iterate(in.eval(*e.star_args, scope))) args.pos.push_back(std::move(v));
  }
  if (e.star_kwargs) {
    const Value d = in.eval(*e.star_kwargs, scope);
    if (!d.is_dict()) type_error("argument after ** must be a mapping, not " + type_name(d));
    for (const auto& [k, v] : d.dict().entries()) {
      if (!k.is_string()) type_error("keywords must be strings");
      args.kw.emplace_back(k.str(), v);
    }
  }
}

}  // namespace

Value Interp::eval_inner(const Expr& e, const ScopePtr& scope) {
  switch (e.kind) {
    case ExprKind::Literal:
      return e.literal;
    case ExprKind::Name:
      return lookup(e.name, scope);
    case ExprKind::ListLit:
    case ExprKind::TupleLit: {
      List items;
      items.reserve(e.items.size());
      for (const ExprPtr& x : e.items) items.push_back(eval(*x, scope));
      return e.kind == ExprKind::ListLit ? Value::list(std::move(items))
                                         : Value::tuple(std::move(items));
    }
    case ExprKind::DictLit: {
      Dict d;
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        Value k = eval(*e.items[i], scope);
        d.set(std::move(k), eval(*e.items[i + 1], scope));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::Getattr:
      return getattr(eval(*e.a, scope), e.name);
    case ExprKind::Getitem: {
      const Value obj = eval(*e.a, scope);
      if (e.b->kind == ExprKind::Slice) {
        const Expr& s = *e.b;
        return slice(obj, s.a ? eval(*s.a, scope) : Value::none(),
                     s.b ? eval(*s.b, scope) : Value::none(),
                     s.c ? eval(*s.c, scope) : Value::none());
      }
      return getitem(obj, eval(*e.b, scope));
    }
    case ExprKind::Slice:
      runtime_error("slice outside of a subscript");
    case ExprKind::Call:
      return eval_call(e, scope);
    case ExprKind::Filter:
      return apply_filter(e, eval(*e.a, scope), scope);
    case ExprKind::Test: {
      const Value v = eval(*e.a, scope);
      if (e.test == nullptr) runtime_error("No test named " + pystr::repr(e.name) + " found.");
      CallArgs args;
      collect_args(*this, e, scope, args);
      return Value::boolean(e.test(*this, v, args));
    }
    case ExprKind::Not:
      return Value::boolean(!truthy(eval(*e.a, scope)));
    case ExprKind::Neg:
    case ExprKind::Pos:
      return negate(eval(*e.a, scope), e.kind == ExprKind::Neg);
    case ExprKind::Binary: {
      const Value a = eval(*e.a, scope);
      return binary_op(*this, e.op, a, eval(*e.b, scope));
    }
    case ExprKind::Compare: {
      Value left = eval(*e.items[0], scope);
      for (size_t i = 0; i < e.cmp.size(); ++i) {
        Value right = eval(*e.items[i + 1], scope);
        if (!compare(*this, e.cmp[i], left, right)) return Value::boolean(false);
        left = std::move(right);
      }
      return Value::boolean(true);
    }
    case ExprKind::And: {
      Value a = eval(*e.a, scope);
      return truthy(a) ? eval(*e.b, scope) : a;
    }
    case ExprKind::Or: {
      Value a = eval(*e.a, scope);
      return truthy(a) ? a : eval(*e.b, scope);
    }
    case ExprKind::Concat: {
      std::string s;
      for (const ExprPtr& x : e.items) {
        const std::string part = str(eval(*x, scope));
        check_size(s.size() + part.size());
        s += part;
      }
      return make_string(std::move(s));
    }
    case ExprKind::CondExpr:
      if (truthy(eval(*e.b, scope))) return eval(*e.a, scope);
      if (e.c) return eval(*e.c, scope);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
  }
  runtime_error("unknown expression");
}

Value Interp::eval_call(const Expr& e, const ScopePtr& scope, const Value* caller) {
  const Expr& callee = *e.a;
  // obj.method(...) on str/dict/list calls the method directly instead of building a bound method.
  if (callee.kind == ExprKind::Getattr) {
    Value obj = eval(*callee.a, scope);
    if ((obj.is_string() || obj.is_dict() || obj.is_sequence()) && caller == nullptr &&
        has_method(obj, callee.name)) {
      CallArgs args;
      collect_args(*this, e, scope, args);
      return call_method(*this, obj, callee.name, args);
    }
    const Value f = getattr(obj, callee.name);
    CallArgs args;
    collect_args(*this, e, scope, args);
    if (caller != nullptr) args.kw.emplace_back("caller", *caller);
    return call(f, args);
  }
  const Value f = eval(callee, scope);
  CallArgs args;
  collect_args(*this, e, scope, args);
  if (caller != nullptr) args.kw.emplace_back("caller", *caller);
  return call(f, args);
}

Value Interp::call(const Value& f, CallArgs& args) {
  Nest nest(*this);
  switch (f.kind()) {
    case Kind::kCallable:
      return f.callable().call(*this, args);
    case Kind::kUndefined:
      fail_undefined(f);
    case Kind::kLoop: {
      LoopState& st = f.loop();
      if (st.node == nullptr || !st.node->recursive) {
        type_error("The loop must have the 'recursive' marker to be called recursively.");
      }
      if (args.pos.size() != 1 || !args.kw.empty()) type_error("loop() takes exactly one argument");
      std::string out;
      run_loop(*st.node, iterate(args.pos[0]), st.depth0 + 1, st.scope, out);
      return make_string(std::move(out));
    }
    default:
      type_error("'" + type_name(f) + "' object is not callable");
  }
}

Value Interp::apply_filter(const Expr& e, const Value& input, const ScopePtr& scope) {
  if (e.filter == nullptr) runtime_error("No filter named " + pystr::repr(e.name) + " found.");
  CallArgs args;
  collect_args(*this, e, scope, args);
  Nest nest(*this);
  return e.filter(*this, input, args);
}

Value Interp::call_filter(const std::string& name, const Value& input, CallArgs& args) {
  const FilterFn f = find_filter(name);
  if (f == nullptr) runtime_error("No filter named " + pystr::repr(name) + ".");
  Nest nest(*this);
  return f(*this, input, args);
}

bool Interp::call_test(const std::string& name, const Value& input, CallArgs& args) {
  const TestFn t = find_test(name);
  if (t == nullptr) runtime_error("No test named " + pystr::repr(name) + ".");
  Nest nest(*this);
  return t(*this, input, args);
}

}  // namespace minima::jinja
