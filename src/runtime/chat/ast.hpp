// The syntax tree the parser builds and the interpreter walks. Nodes are plain structs with the
// fields their kind needs; filters and tests are resolved to functions while parsing.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/chat/value.hpp"

namespace minima::jinja {

class Interp;
using FilterFn = Value (*)(Interp& in, const Value& input, CallArgs& args);
using TestFn = bool (*)(Interp& in, const Value& input, CallArgs& args);

enum class ExprKind : uint8_t {
  Literal,   // literal
  Name,      // name
  ListLit,   // items
  TupleLit,  // items
  DictLit,   // items: key, value, key, value, ...
  Getattr,   // a.name
  Getitem,   // a[b]
  Slice,     // a:b:c inside a subscript (any part may be null)
  Call,      // a(items..., kwargs..., *star_args, **star_kwargs)
  Filter,    // a | name(items..., kwargs...); a is null inside {% filter %} blocks
  Test,      // a is name(items..., kwargs...)
  Not,       // not a
  Neg,       // -a
  Pos,       // +a
  Binary,    // a op b
  Compare,   // items[0] cmp[0] items[1] cmp[1] items[2] ... (chained like Python)
  And,       // a and b
  Or,        // a or b
  Concat,    // items joined with ~
  CondExpr,  // a if b else c (c may be null)
};

enum class BinOp : uint8_t { Add, Sub, Mul, Div, FloorDiv, Mod, Pow };
enum class CmpOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::Literal;
  int line = 0;
  Value literal;
  std::string name;
  BinOp op = BinOp::Add;
  std::vector<CmpOp> cmp;
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr star_args, star_kwargs;
  FilterFn filter = nullptr;  // null: unknown filter, raised when evaluated (see parser)
  TestFn test = nullptr;
};

// An assignment target: a name, a tuple of targets, or (for set) a namespace attribute.
struct Target {
  enum class Kind : uint8_t { Name, Tuple, NsAttr };
  Kind kind = Kind::Name;
  std::string name;
  std::string attr;
  std::vector<Target> items;
};

enum class NodeKind : uint8_t {
  Text,         // text
  Output,       // {{ expr }}
  If,           // branches (cond null for else)
  For,          // for target in expr [if cond] [recursive]: body [else else_body]
  Set,          // set target = expr
  SetBlock,     // set target [| filters in expr] ... endset
  Macro,        // macro name(params=defaults): body
  CallBlock,    // call(params) expr: body (the body becomes `caller`)
  FilterBlock,  // filter expr (a Filter chain over a null input): body
  With,         // with assigns: body
  Scope,        // body in the same scope ({% generation %})
  Break,
  Continue,
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  NodeKind kind = NodeKind::Text;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr cond;
  Target target;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  bool recursive = false;
  // Macro and CallBlock signatures; defaults[i] is null when params[i] has none.
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;
  bool uses_caller = false, uses_varargs = false, uses_kwargs = false;
  std::vector<std::pair<Target, ExprPtr>> assigns;  // With
};

}  // namespace minima::jinja
