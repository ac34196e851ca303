// The tree-walking interpreter: scopes, the loop object, and the render state that carries the
// limits (steps, output size, nesting) through one render. Expressions are evaluated in eval.cpp,
// statements executed in exec.cpp; the Python object model lives in access.cpp (attributes,
// subscripts, iteration), ops.cpp (operators) and methods_*.cpp (str/dict/list methods).
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/chat/ast.hpp"
#include "runtime/chat/value.hpp"

namespace minima::jinja {

// Variables of one Jinja frame. A for loop opens one per iteration and a macro call one per call;
// `set` writes the innermost, so assignments never leak out of loops (namespaces excepted).
struct Scope {
  std::vector<std::pair<std::string, Value>> vars;
  std::shared_ptr<Scope> parent;

  const Value* find(std::string_view name) const;  // along the parent chain
  void set(std::string_view name, Value v);        // in this scope
};
using ScopePtr = std::shared_ptr<Scope>;

// Jinja's LoopContext.
struct LoopState {
  Value items;  // the (filtered) items as a list
  size_t index0 = 0;
  int depth0 = 0;
  const Node* node = nullptr;  // the for statement, for `loop(children)` in recursive loops
  ScopePtr scope;              // the scope the for statement runs in
  std::optional<Value> changed_last;
};

// Limits of one render (RenderOptions, plus fixed bounds on nesting).
// Nested eval/exec/call frames. Bounds the stack a render needs (about 0.6 KB a level, so
// under 1 MB) and turns runaway recursion (a macro calling itself) into a LimitError.
inline constexpr int kMaxNesting = 1000;

class Interp {
 public:
  Interp(size_t max_output_bytes, int64_t max_steps, std::tm now);
  ~Interp();
  Interp(const Interp&) = delete;
  Interp& operator=(const Interp&) = delete;

  std::string render(const Body& body, ScopePtr root);

  // ---- expressions (eval.cpp) ----
  Value eval(const Expr& e, const ScopePtr& scope);
  Value lookup(const std::string& name, const ScopePtr& scope);
  Value call(const Value& f, CallArgs& args);
  Value eval_call(const Expr& call, const ScopePtr& scope, const Value* caller = nullptr);
  Value apply_filter(const Expr& f, const Value& input, const ScopePtr& scope);
  // Calls a filter or test by name with ready arguments (map('upper'), select('odd')).
  Value call_filter(const std::string& name, const Value& input, CallArgs& args);
  bool call_test(const std::string& name, const Value& input, CallArgs& args);

  // ---- statements (exec.cpp) ----
  enum class Flow : uint8_t { Normal, Break, Continue };
  Flow exec(const Body& body, const ScopePtr& scope, std::string& out);
  void assign(const Target& t, const Value& v, Scope& scope);
  // Renders a recursive loop's body over new items (loop(children)).
  // Runs a for statement over `items` (filter, body, else); recursive loops re-enter it through
  // loop(children).
  Flow run_loop(const Node& node, List items, int depth0, const ScopePtr& scope, std::string& out);
  std::string render_body(const Body& body, const ScopePtr& scope);

  // ---- object model (access.cpp) ----
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);
  Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
  List iterate(const Value& v);  // Python iteration; TypeError when not iterable

  // ---- output and limits ----
  void put(std::string& out, std::string_view s);  // checks the output limit
  std::string str(const Value& v);                 // to_str within the output limit
  // A string result; checks the size limit and charges its bytes to the step budget.
  Value make_string(std::string s, bool markup = false);
  void check_size(size_t bytes) const;
  void charge(int64_t steps) { budget.charge(steps); }
  // Building text costs steps in proportion to its size, so that the step limit also bounds the
  // memory a template can churn through (max_steps * kBytesPerStep bytes in all).
  static constexpr size_t kBytesPerStep = 4;
  void charge_bytes(size_t n) { budget.charge(static_cast<int64_t>(n / kBytesPerStep)); }
  // Building a list of n items costs kStepsPerItem steps each, charged before it is built; no
  // single list may hold more items than max_output_bytes / 8.
  static constexpr int64_t kStepsPerItem = 4;
  void charge_items(size_t n);
  Budget* steps() { return &budget; }
  const std::tm& now() const { return now_; }
  size_t max_output() const { return max_output_; }
  Value new_namespace();

  // RAII guard for one level of nesting.
  class Nest {
   public:
    explicit Nest(Interp& in) : in_(in) {
      if (++in_.nesting_ > kMaxNesting) in_.nesting_exceeded();
    }
    ~Nest() { --in_.nesting_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    Interp& in_;
  };

 private:
  [[noreturn]] void nesting_exceeded();
  Value eval_inner(const Expr& e, const ScopePtr& scope);
  Flow exec_node(const Node& n, const ScopePtr& scope, std::string& out);
  Flow exec_for(const Node& n, const ScopePtr& scope, std::string& out);
  // Applies a {% filter %} / {% set x | f %} chain (Filter nodes over a null input) to v.
  Value apply_chain(const Expr* chain, Value v, const ScopePtr& scope);
  Value make_macro(const Node& n, const ScopePtr& scope, const char* name);

  Budget budget;
  size_t max_output_;
  std::tm now_;
  int nesting_ = 0;
  ScopePtr root_;
  // Every namespace of this render, kept alive until the end and then emptied, which breaks any
  // reference cycles a template made through them (ns.self = ns).
  std::vector<std::shared_ptr<Namespace>> namespaces_;
};

// A callable that forwards to a method of a value: "abc".upper, d.items, loop.cycle.
class BoundMethod : public Callable {
 public:
  BoundMethod(Value self, std::string name) : self_(std::move(self)), name_(std::move(name)) {}
  Value call(Interp& in, CallArgs& args) const override;
  std::string repr() const override;
  const char* type_name() const override { return "builtin_function_or_method"; }

 private:
  Value self_;
  std::string name_;
};

// Methods of str, dict, list/tuple and the loop object (methods_str.cpp, methods_obj.cpp).
bool has_method(const Value& self, std::string_view name);
Value call_method(Interp& in, const Value& self, std::string_view name, CallArgs& args);
Value call_str_method(Interp& in, const Value& self, std::string_view name, CallArgs& args);
bool is_str_method(std::string_view name);
// The global functions (globals.cpp): range, namespace, dict, cycler, joiner, raise_exception,
// strftime_now. Returns an Undefined when `name` is none of them.
Value lookup_global(const std::string& name);

}  // namespace minima::jinja
