// The values a chat template computes with, modelled on the Python objects Jinja2 hands around:
// None, bool, int, float, str (with markupsafe's Markup as a flag), list, tuple, dict (insertion
// ordered), Jinja's Undefined, namespace(), callables (macros, builtins, bound methods) and the
// loop object. Values are cheap to copy: strings and containers live behind shared pointers and
// are never changed after construction (the sandbox forbids list.append & co), except namespaces
// and loop state, which templates mutate through `set ns.x = ...` and loop.changed().
#pragma once

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace minima::jinja {

class Value;
class Dict;
class Callable;
struct Namespace;
struct LoopState;
struct IteratorState;
using List = std::vector<Value>;

// Immutable containers may nest at most this deep. Printing, comparing, serializing and destroying
// values recurse over the nesting, so the bound keeps hostile templates from exhausting the stack.
inline constexpr int kMaxDepth = 512;

enum class Kind : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,
  kTuple,
  kDict,
  kNamespace,
  kCallable,
  kLoop,
  kIterator,  // a generator or iterator some filters return: truthy, single use, no len()
};

class Value {
 public:
  Value() = default;  // an Undefined with a generic message
  static Value undefined(std::string message, bool unsafe = false);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double d);
  static Value string(std::string s);
  static Value markup(std::string s);  // markupsafe.Markup: already-escaped text
  static Value string_like(std::string s, bool markup) {
    return markup ? Value::markup(std::move(s)) : string(std::move(s));
  }
  static Value list(List items);
  static Value tuple(List items);
  // Jinja's groupby result: a (grouper, list) tuple whose items are also attributes.
  static Value group_tuple(Value grouper, Value list);
  static Value dict(Dict d);
  static Value ns(std::shared_ptr<Namespace> ns);
  static Value callable(std::shared_ptr<const Callable> f, int depth = 1);
  static Value loop(std::shared_ptr<LoopState> s, int depth);
  static Value iterator(std::shared_ptr<IteratorState> s);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_integral() const { return kind_ == Kind::kInt || kind_ == Kind::kBool; }  // Python int
  bool is_number() const { return is_integral() || kind_ == Kind::kFloat; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_markup() const { return kind_ == Kind::kString && markup_; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kTuple; }
  bool is_sequence() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_group_tuple() const { return kind_ == Kind::kTuple && markup_; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_callable() const { return kind_ == Kind::kCallable; }
  bool is_loop() const { return kind_ == Kind::kLoop; }
  bool is_iterator() const { return kind_ == Kind::kIterator; }

  bool bool_value() const { return u_.b; }
  int64_t int_value() const { return kind_ == Kind::kBool ? (u_.b ? 1 : 0) : u_.i; }
  double float_value() const {
    return kind_ == Kind::kFloat ? u_.f : static_cast<double>(int_value());
  }
  const std::string& str() const { return *static_cast<const std::string*>(p_.get()); }
  const List& items() const { return *static_cast<const List*>(p_.get()); }
  const Dict& dict() const { return *static_cast<const Dict*>(p_.get()); }
  Namespace& ns() const;
  const Callable& callable() const { return *static_cast<const Callable*>(p_.get()); }
  LoopState& loop() const;
  IteratorState& iterator() const;
  const std::string& undefined_message() const;
  bool undefined_unsafe() const;  // raised as SecurityError rather than UndefinedError

  // Nesting depth of immutable containers (scalars 0).
  int depth() const { return depth_; }
  // Object identity, for the `sameas` test.
  const void* identity() const { return p_.get(); }

 private:
  Kind kind_ = Kind::kUndefined;
  bool markup_ = false;  // str: markupsafe.Markup; tuple: groupby's named tuple
  uint16_t depth_ = 0;
  union {
    bool b;
    int64_t i;
    double f;
  } u_{};
  std::shared_ptr<const void> p_;
};

// A Python dict: insertion ordered, keys compared with Python equality (1 == 1.0 == True).
class Dict {
 public:
  const Value* find(const Value& key) const;  // nullptr when absent or unhashable
  const Value* find(std::string_view key) const;
  // Inserts or overwrites (an overwritten key keeps its position). TypeError on unhashable keys.
  void set(Value key, Value value);
  bool erase(std::string_view key);
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  int depth() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  static constexpr size_t kIndexFrom = 8;  // small dicts are scanned; larger ones keep an index
  void rebuild_index();

  std::vector<std::pair<Value, Value>> entries_;
  std::unordered_map<std::string, size_t, Hash, Eq> index_;  // string keys only
};

struct Namespace {
  Dict attrs;
};

// What Python's lazy filters (map, select, unique, items, reverse, ...) return. The items are
// computed when the filter runs, but handed out once, as a generator does; an error raised while
// computing them is kept and raised when the consumer reaches that point.
struct IteratorState {
  std::string type;  // Python type name: "generator", "list_reverseiterator", ...
  std::string name;  // the generator function, for repr
  List items;
  size_t pos = 0;
  bool failed = false;
  std::string error_kind, error_message;

  // The remaining items (raising the kept error, if any, once they are exhausted).
  List drain();
  // The next item, or nullptr when exhausted.
  const Value* next();
};

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

class Interp;

class Callable {
 public:
  virtual ~Callable() = default;
  virtual Value call(Interp& in, CallArgs& args) const = 0;
  virtual std::string repr() const = 0;
  // Python's class name, e.g. "Macro" or "builtin_function_or_method".
  virtual const char* type_name() const = 0;
};

// Python truthiness (Undefined is false).
bool truthy(const Value& v);
// Python's type(v).__name__: "NoneType", "int", "str", "Markup", "list", "Undefined", ...
std::string type_name(const Value& v);
// Jinja's object_type_repr: "None", "dict object", "jinja2.utils.Namespace object", ...
std::string object_type_repr(const Value& v);
// Work budget of one render. Operations whose cost is not bounded by their output (deep
// comparisons of shared sub-values, for one) charge it, so no value can make them run for ever.
struct Budget {
  int64_t steps_left = INT64_MAX;
  void charge(int64_t n) {
    steps_left -= n;
    if (steps_left < 0) exhausted();
  }
  [[noreturn]] void exhausted() const;
};

// Python `==` (deep; numbers across int/float/bool). Charges `budget` one step per element.
bool py_equal(const Value& a, const Value& b, Budget* budget = nullptr);
// Whether Python could use v as a dict key.
bool hashable(const Value& v);
// Throws UndefinedError (or SecurityError) with the undefined value's message.
[[noreturn]] void fail_undefined(const Value& v);

}  // namespace minima::jinja
