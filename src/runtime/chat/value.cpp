#include "runtime/chat/value.hpp"

#include <algorithm>
#include <cmath>

#include "runtime/chat/error.hpp"

namespace minima::jinja {

namespace {

struct UndefinedInfo {
  std::string message;
  bool unsafe;
};

const std::string& generic_undefined_message() {
  static const std::string m = "value is undefined";
  return m;
}

int checked_depth(int child_depth) {
  const int d = child_depth + 1;
  if (d > kMaxDepth) {
    limit_error("values are nested more than " + std::to_string(kMaxDepth) + " levels deep");
  }
  return d;
}

int list_depth(const List& items) {
  int d = 0;
  for (const Value& v : items) d = std::max(d, v.depth());
  return d;
}

}  // namespace

Value Value::undefined(std::string message, bool unsafe) {
  Value v;
  v.p_ = std::make_shared<const UndefinedInfo>(UndefinedInfo{std::move(message), unsafe});
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.u_.b = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.u_.i = i;
  return v;
}

Value Value::number(double d) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.u_.f = d;
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.p_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::markup(std::string s) {
  Value v = string(std::move(s));
  v.markup_ = true;
  return v;
}

Value Value::list(List items) {
  Value v;
  v.kind_ = Kind::kList;
  v.depth_ = static_cast<uint16_t>(checked_depth(list_depth(items)));
  v.p_ = std::make_shared<const List>(std::move(items));
  return v;
}

Value Value::tuple(List items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::kTuple;
  return v;
}

Value Value::group_tuple(Value grouper, Value list) {
  Value v = tuple({std::move(grouper), std::move(list)});
  v.markup_ = true;
  return v;
}

Value Value::dict(Dict d) {
  Value v;
  v.kind_ = Kind::kDict;
  v.depth_ = static_cast<uint16_t>(checked_depth(d.depth()));
  v.p_ = std::make_shared<const Dict>(std::move(d));
  return v;
}

Value Value::ns(std::shared_ptr<Namespace> ns) {
  // A namespace is a leaf for the depth bound: the interpreter keeps every namespace alive until
  // the render ends and then empties them all, so none is ever destroyed with contents.
  Value v;
  v.kind_ = Kind::kNamespace;
  v.depth_ = 1;
  v.p_ = std::move(ns);
  return v;
}

Value Value::callable(std::shared_ptr<const Callable> f, int depth) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.depth_ = static_cast<uint16_t>(checked_depth(depth - 1));
  v.p_ = std::move(f);
  return v;
}

Value Value::loop(std::shared_ptr<LoopState> s, int depth) {
  Value v;
  v.kind_ = Kind::kLoop;
  v.depth_ = static_cast<uint16_t>(checked_depth(depth));
  v.p_ = std::move(s);
  return v;
}

Value Value::iterator(std::shared_ptr<IteratorState> s) {
  Value v;
  v.kind_ = Kind::kIterator;
  v.depth_ = static_cast<uint16_t>(checked_depth(list_depth(s->items)));
  v.p_ = std::move(s);
  return v;
}

IteratorState& Value::iterator() const {
  return *const_cast<IteratorState*>(static_cast<const IteratorState*>(p_.get()));
}

List IteratorState::drain() {
  List rest(items.begin() + static_cast<std::ptrdiff_t>(pos), items.end());
  pos = items.size();
  if (failed) throw_error(error_kind.c_str(), error_message);
  return rest;
}

const Value* IteratorState::next() {
  if (pos < items.size()) return &items[pos++];
  if (failed) throw_error(error_kind.c_str(), error_message);
  return nullptr;
}

Namespace& Value::ns() const {
  // Namespaces are created non-const (Value::ns takes a mutable pointer), so this is sound.
  return *const_cast<Namespace*>(static_cast<const Namespace*>(p_.get()));
}

LoopState& Value::loop() const {
  return *const_cast<LoopState*>(static_cast<const LoopState*>(p_.get()));
}

const std::string& Value::undefined_message() const {
  if (!p_) return generic_undefined_message();
  return static_cast<const UndefinedInfo*>(p_.get())->message;
}

bool Value::undefined_unsafe() const {
  return p_ && static_cast<const UndefinedInfo*>(p_.get())->unsafe;
}

void fail_undefined(const Value& v) {
  if (v.undefined_unsafe()) security_error(v.undefined_message());
  undefined_error(v.undefined_message());
}

// ---- Dict ----

const Value* Dict::find(std::string_view key) const {
  if (!index_.empty()) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &entries_[it->second].second;
  }
  for (const auto& [k, v] : entries_) {
    if (k.is_string() && k.str() == key) return &v;
  }
  return nullptr;
}

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.str()));
  if (!hashable(key)) return nullptr;
  for (const auto& [k, v] : entries_) {
    if (!k.is_string() && py_equal(k, key)) return &v;
  }
  return nullptr;
}

void Dict::set(Value key, Value value) {
  if (!hashable(key)) type_error("unhashable type: '" + type_name(key) + "'");
  const Value* existing = find(key);
  if (existing != nullptr) {
    const_cast<Value&>(*existing) = std::move(value);
    return;
  }
  entries_.emplace_back(std::move(key), std::move(value));
  if (index_.empty() && entries_.size() > kIndexFrom) {
    rebuild_index();
  } else if (!index_.empty() && entries_.back().first.is_string()) {
    index_.emplace(entries_.back().first.str(), entries_.size() - 1);
  }
}

bool Dict::erase(std::string_view key) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].first.is_string() && entries_[i].first.str() == key) {
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
      index_.clear();
      if (entries_.size() > kIndexFrom) rebuild_index();
      return true;
    }
  }
  return false;
}

void Dict::rebuild_index() {
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].first.is_string()) index_.emplace(entries_[i].first.str(), i);
  }
}

int Dict::depth() const {
  int d = 0;
  for (const auto& [k, v] : entries_) d = std::max({d, k.depth(), v.depth()});
  return d;
}

// ---- Python object model ----

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return v.bool_value();
    case Kind::kInt:
      return v.int_value() != 0;
    case Kind::kFloat:
      return v.float_value() != 0.0;
    case Kind::kString:
      return !v.str().empty();
    case Kind::kList:
    case Kind::kTuple:
      return !v.items().empty();
    case Kind::kDict:
      return !v.dict().empty();
    case Kind::kNamespace:
    case Kind::kCallable:
    case Kind::kLoop:
    case Kind::kIterator:
      return true;
  }
  return false;
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return v.is_markup() ? "Markup" : "str";
    case Kind::kList:
      return "list";
    case Kind::kTuple:
      return "tuple";
    case Kind::kDict:
      return "dict";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kCallable:
      return v.callable().type_name();
    case Kind::kLoop:
      return "LoopContext";
    case Kind::kIterator:
      return v.iterator().type;
  }
  return "object";
}

std::string object_type_repr(const Value& v) {
  switch (v.kind()) {
    case Kind::kNone:
      return "None";
    case Kind::kString:
      return v.is_markup() ? "markupsafe.Markup object" : "str object";
    case Kind::kNamespace:
      return "jinja2.utils.Namespace object";
    case Kind::kLoop:
      return "jinja2.runtime.LoopContext object";
    case Kind::kUndefined:
      return "jinja2.runtime.Undefined object";
    case Kind::kCallable: {
      const std::string t = v.callable().type_name();
      if (t == "Macro") return "jinja2.runtime.Macro object";
      return t + " object";
    }
    default:
      return type_name(v) + " object";
  }
}

bool hashable(const Value& v) {
  switch (v.kind()) {
    case Kind::kList:
    case Kind::kDict:
      return false;
    case Kind::kTuple:
      return std::all_of(v.items().begin(), v.items().end(),
                         [](const Value& x) { return hashable(x); });
    default:
      return true;
  }
}

void Budget::exhausted() const {
  limit_error("template exceeded its step limit (RenderOptions::max_steps)");
}

bool py_equal(const Value& a, const Value& b, Budget* budget) {
  if (budget != nullptr) budget->charge(1);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.float_value() == b.float_value();
    return a.int_value() == b.int_value();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.str() == b.str();
    case Kind::kList:
    case Kind::kTuple: {
      const List& x = a.items();
      const List& y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!py_equal(x[i], y[i], budget)) return false;
      }
      return true;
    }
    case Kind::kDict: {
      const Dict& x = a.dict();
      const Dict& y = b.dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.entries()) {
        const Value* other = y.find(k);
        if (other == nullptr || !py_equal(v, *other, budget)) return false;
      }
      return true;
    }
    default:
      return a.identity() == b.identity();
  }
}

}  // namespace minima::jinja
