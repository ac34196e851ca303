// Expression half of the parser: Jinja2's precedence climbing, from the inline if down to
// primaries, postfix subscripts/calls and the filter/test chain.
#include "runtime/chat/error.hpp"
#include "runtime/chat/parser.hpp"
#include "runtime/chat/parser_impl.hpp"
#include "runtime/chat/pystr.hpp"

namespace minima::jinja {

namespace {

// Depth of the trees the parser builds (nesting, plus one per link of an operator, filter or
// attribute chain); deeper input is rejected so that walking and destroying a tree cannot
// exhaust the stack. Evaluation recurses once or twice per level, within kMaxNesting.
constexpr int kMaxParseDepth = 256;

}  // namespace

void Parser::enter() {
  if (++depth_ > kMaxParseDepth) fail("template nesting is too deep");
}

bool Parser::skip_op(std::string_view op) {
  if (!is_op(op)) return false;
  next();
  return true;
}

bool Parser::skip_name(std::string_view n) {
  if (!is_name(n)) return false;
  next();
  return true;
}

std::string Parser::describe(const Token& t) const {
  switch (t.type) {
    case TokType::Text:
      return "template data / text";
    case TokType::VarBegin:
      return "begin of print statement";
    case TokType::VarEnd:
      return "end of print statement";
    case TokType::BlockBegin:
      return "begin of statement block";
    case TokType::BlockEnd:
      return "end of statement block";
    case TokType::Name:
    case TokType::Operator:
      return t.value;
    case TokType::String:
      return "string";
    case TokType::Integer:
      return "integer";
    case TokType::Float:
      return "float";
    case TokType::Eof:
      return "end of template";
  }
  return "token";
}

void Parser::fail(const std::string& what) const {
  fail_at(cur().offset, what);
}

void Parser::fail_at(uint32_t offset, const std::string& what) const {
  syntax_error(source_, offset, what);
}

void Parser::expect_op(std::string_view op) {
  if (!skip_op(op)) {
    fail("expected token '" + std::string(op) + "', got '" + describe(cur()) + "'");
  }
}

void Parser::expect_name(std::string_view n) {
  if (!skip_name(n)) {
    fail("expected token '" + std::string(n) + "', got '" + describe(cur()) + "'");
  }
}

std::string Parser::expect_identifier() {
  if (cur().type != TokType::Name) {
    fail("expected token 'name', got '" + describe(cur()) + "'");
  }
  return next().value;
}

ExprPtr Parser::make(ExprKind kind, int at_line) const {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = at_line;
  return e;
}

bool Parser::is_tuple_end(std::initializer_list<std::string_view> extra_end) const {
  if (cur().type == TokType::VarEnd || cur().type == TokType::BlockEnd || is_op(")")) return true;
  for (std::string_view n : extra_end) {
    if (is_name(n)) return true;
  }
  return false;
}

ExprPtr Parser::parse_tuple(bool simplified, bool with_condexpr,
                            std::initializer_list<std::string_view> extra_end,
                            bool explicit_parentheses) {
  const int at = line();
  std::vector<ExprPtr> args;
  bool is_tuple = false;
  while (true) {
    if (!args.empty()) expect_op(",");
    if (is_tuple_end(extra_end)) break;
    if (simplified) {
      args.push_back(parse_primary());
    } else {
      args.push_back(parse_expression(with_condexpr));
    }
    if (!is_op(",")) break;
    is_tuple = true;
  }
  if (!is_tuple) {
    if (!args.empty()) return std::move(args[0]);
    if (!explicit_parentheses) fail("Expected an expression, got '" + describe(cur()) + "'");
  }
  auto t = make(ExprKind::TupleLit, at);
  t->items = std::move(args);
  return t;
}

ExprPtr Parser::parse_expression(bool with_condexpr) {
  enter();
  ExprPtr e = with_condexpr ? parse_condexpr() : parse_or();
  leave();
  return e;
}

ExprPtr Parser::parse_condexpr() {
  const int at = line();
  ExprPtr expr1 = parse_or();
  const int base = depth_;
  while (skip_name("if")) {
    enter();
    const bool was_soft = soft_;
    soft_ = true;
    auto node = make(ExprKind::CondExpr, at);
    node->b = parse_or();
    if (skip_name("else")) node->c = parse_condexpr();
    soft_ = was_soft;
    node->a = std::move(expr1);
    expr1 = std::move(node);
  }
  depth_ = base;
  return expr1;
}

// One left-associative level: operand (operator operand)*. peek(kind, op) says whether the current
// token is an operator of this level and which node it makes, without consuming it. Every operator
// nests one level deeper for the depth limit; the depth is restored when the level ends.
template <class Peek>
ExprPtr Parser::left_assoc(ExprPtr (Parser::*operand)(), Peek peek) {
  ExprPtr left = (this->*operand)();
  const int base = depth_;
  ExprKind kind = ExprKind::Binary;
  BinOp op = BinOp::Add;
  while (peek(kind, op)) {
    enter();
    const int at = line();
    next();
    auto node = make(kind, at);
    node->op = op;
    node->a = std::move(left);
    node->b = (this->*operand)();
    left = std::move(node);
  }
  depth_ = base;
  return left;
}

ExprPtr Parser::parse_or() {
  return left_assoc(&Parser::parse_and, [&](ExprKind& kind, BinOp&) {
    kind = ExprKind::Or;
    return is_name("or");
  });
}

ExprPtr Parser::parse_and() {
  return left_assoc(&Parser::parse_not, [&](ExprKind& kind, BinOp&) {
    kind = ExprKind::And;
    return is_name("and");
  });
}

ExprPtr Parser::parse_not() {
  if (is_name("not")) {
    const int at = line();
    next();
    enter();
    auto node = make(ExprKind::Not, at);
    node->a = parse_not();
    leave();
    return node;
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
  const int at = line();
  ExprPtr expr = parse_math1();
  ExprPtr node;
  while (true) {
    CmpOp op;
    if (is_op("==")) {
      op = CmpOp::Eq;
    } else if (is_op("!=")) {
      op = CmpOp::Ne;
    } else if (is_op("<")) {
      op = CmpOp::Lt;
    } else if (is_op("<=")) {
      op = CmpOp::Le;
    } else if (is_op(">")) {
      op = CmpOp::Gt;
    } else if (is_op(">=")) {
      op = CmpOp::Ge;
    } else if (is_name("in")) {
      op = CmpOp::In;
    } else if (is_name("not") && look().type == TokType::Name && look().value == "in") {
      op = CmpOp::NotIn;
      next();
    } else {
      break;
    }
    next();
    if (!node) {
      node = make(ExprKind::Compare, at);
      node->items.push_back(std::move(expr));
    }
    node->cmp.push_back(op);
    node->items.push_back(parse_math1());
  }
  return node ? std::move(node) : std::move(expr);
}

ExprPtr Parser::parse_math1() {
  return left_assoc(&Parser::parse_concat, [&](ExprKind&, BinOp& op) {
    op = is_op("+") ? BinOp::Add : BinOp::Sub;
    return is_op("+") || is_op("-");
  });
}

ExprPtr Parser::parse_concat() {
  const int at = line();
  ExprPtr first = parse_math2();
  if (!is_op("~")) return first;
  auto node = make(ExprKind::Concat, at);
  node->items.push_back(std::move(first));
  while (skip_op("~")) node->items.push_back(parse_math2());
  return node;
}

ExprPtr Parser::parse_math2() {
  return left_assoc(&Parser::parse_pow, [&](ExprKind&, BinOp& op) {
    op = is_op("*")    ? BinOp::Mul
         : is_op("/")  ? BinOp::Div
         : is_op("//") ? BinOp::FloorDiv
                       : BinOp::Mod;
    return is_op("*") || is_op("/") || is_op("//") || is_op("%");
  });
}

ExprPtr Parser::parse_pow() {
  return left_assoc(&Parser::parse_unary_filtered, [&](ExprKind&, BinOp& op) {
    op = BinOp::Pow;
    return is_op("**");
  });
}

ExprPtr Parser::parse_unary(bool with_filter) {
  const int at = line();
  ExprPtr node;
  enter();
  if (is_op("-") || is_op("+")) {
    const bool neg = next().value == "-";
    node = make(neg ? ExprKind::Neg : ExprKind::Pos, at);
    node->a = parse_unary(false);
  } else {
    node = parse_primary();
  }
  leave();
  node = parse_postfix(std::move(node));
  if (with_filter) node = parse_filter_expr(std::move(node));
  return node;
}

ExprPtr Parser::parse_primary() {
  const Token& t = cur();
  const int at = line();
  if (t.type == TokType::Name) {
    next();
    auto node = make(ExprKind::Literal, at);
    if (t.value == "true" || t.value == "True") {
      node->literal = Value::boolean(true);
    } else if (t.value == "false" || t.value == "False") {
      node->literal = Value::boolean(false);
    } else if (t.value == "none" || t.value == "None") {
      node->literal = Value::none();
    } else {
      node->kind = ExprKind::Name;
      node->name = t.value;
    }
    return node;
  }
  if (t.type == TokType::String) {
    std::string s;
    while (cur().type == TokType::String) s += next().value;
    auto node = make(ExprKind::Literal, at);
    node->literal = Value::string(std::move(s));
    return node;
  }
  if (t.type == TokType::Integer || t.type == TokType::Float) {
    next();
    auto node = make(ExprKind::Literal, at);
    node->literal =
        t.type == TokType::Integer ? Value::integer(t.int_value) : Value::number(t.float_value);
    return node;
  }
  if (is_op("(")) {
    next();
    enter();
    ExprPtr node = parse_tuple(false, true, {}, true);
    leave();
    expect_op(")");
    return node;
  }
  if (is_op("[")) return parse_list();
  if (is_op("{")) return parse_dict();
  fail("unexpected '" + describe(t) + "'");
}

ExprPtr Parser::parse_list() {
  const int at = line();
  expect_op("[");
  enter();
  auto node = make(ExprKind::ListLit, at);
  while (!is_op("]")) {
    if (!node->items.empty()) expect_op(",");
    if (is_op("]")) break;
    node->items.push_back(parse_expression());
  }
  expect_op("]");
  leave();
  return node;
}

ExprPtr Parser::parse_dict() {
  const int at = line();
  expect_op("{");
  enter();
  auto node = make(ExprKind::DictLit, at);
  while (!is_op("}")) {
    if (!node->items.empty()) expect_op(",");
    if (is_op("}")) break;
    node->items.push_back(parse_expression());
    expect_op(":");
    node->items.push_back(parse_expression());
  }
  expect_op("}");
  leave();
  return node;
}

ExprPtr Parser::parse_postfix(ExprPtr node) {
  const int base = depth_;
  while (true) {
    if (is_op(".") || is_op("[")) {
      enter();
      node = parse_subscript(std::move(node));
    } else if (is_op("(")) {
      enter();
      node = parse_call(std::move(node));
    } else {
      break;
    }
  }
  depth_ = base;
  return node;
}

ExprPtr Parser::parse_filter_expr(ExprPtr node) {
  const int base = depth_;
  while (true) {
    if (is_op("|")) {
      node = parse_filter(std::move(node));
    } else if (is_name("is")) {
      enter();
      node = parse_test(std::move(node));
    } else if (is_op("(")) {
      enter();
      node = parse_call(std::move(node));
    } else {
      break;
    }
  }
  depth_ = base;
  return node;
}

ExprPtr Parser::parse_subscript(ExprPtr node) {
  const int at = line();
  if (skip_op(".")) {
    const Token& t = cur();
    if (t.type == TokType::Name) {
      next();
      auto e = make(ExprKind::Getattr, at);
      e->a = std::move(node);
      e->name = t.value;
      return e;
    }
    if (t.type != TokType::Integer) fail("expected name or number");
    next();
    auto e = make(ExprKind::Getitem, at);
    e->a = std::move(node);
    e->b = make(ExprKind::Literal, at);
    e->b->literal = Value::integer(t.int_value);
    return e;
  }
  expect_op("[");
  enter();
  std::vector<ExprPtr> args;
  while (!is_op("]")) {
    if (!args.empty()) expect_op(",");
    args.push_back(parse_subscribed());
  }
  expect_op("]");
  leave();
  auto e = make(ExprKind::Getitem, at);
  e->a = std::move(node);
  if (args.size() == 1) {
    e->b = std::move(args[0]);
  } else {
    e->b = make(ExprKind::TupleLit, at);
    e->b->items = std::move(args);
  }
  return e;
}

ExprPtr Parser::parse_subscribed() {
  const int at = line();
  auto slice = make(ExprKind::Slice, at);
  if (skip_op(":")) {
    // start omitted
  } else {
    ExprPtr start = parse_expression();
    if (!is_op(":")) return start;
    next();
    slice->a = std::move(start);
  }
  if (!is_op(":") && !is_op("]") && !is_op(",")) slice->b = parse_expression();
  if (skip_op(":")) {
    if (!is_op("]") && !is_op(",")) slice->c = parse_expression();
  }
  return slice;
}

void Parser::parse_call_args(Expr& call) {
  const uint32_t at = cur().offset;
  expect_op("(");
  enter();
  auto ensure = [&](bool ok) {
    if (!ok) fail_at(at, "invalid syntax for function call expression");
  };
  bool require_comma = false;
  while (!is_op(")")) {
    if (require_comma) {
      expect_op(",");
      if (is_op(")")) break;
    }
    if (is_op("*")) {
      ensure(!call.star_args && !call.star_kwargs);
      next();
      call.star_args = parse_expression();
    } else if (is_op("**")) {
      ensure(!call.star_kwargs);
      next();
      call.star_kwargs = parse_expression();
    } else if (cur().type == TokType::Name && look().type == TokType::Operator &&
               look().value == "=") {
      ensure(!call.star_kwargs);
      std::string key = next().value;
      next();
      call.kwargs.emplace_back(std::move(key), parse_expression());
    } else {
      ensure(!call.star_args && !call.star_kwargs && call.kwargs.empty());
      call.items.push_back(parse_expression());
    }
    require_comma = true;
  }
  expect_op(")");
  leave();
}

ExprPtr Parser::parse_call(ExprPtr callee) {
  auto e = make(ExprKind::Call, line());
  e->a = std::move(callee);
  parse_call_args(*e);
  return e;
}

ExprPtr Parser::parse_filter(ExprPtr node) {
  // The caller restores depth_; each filter nests the tree one level deeper.
  while (skip_op("|")) {
    enter();
    const uint32_t at = cur().offset;
    auto e = make(ExprKind::Filter, line());
    e->name = expect_identifier();
    while (skip_op(".")) e->name += "." + expect_identifier();
    if (is_op("(")) parse_call_args(*e);
    e->filter = find_filter(e->name);
    if (e->filter == nullptr && !soft_)
      fail_at(at, "No filter named " + pystr::repr(e->name) + ".");
    e->a = std::move(node);
    node = std::move(e);
  }
  return node;
}

ExprPtr Parser::parse_test(ExprPtr node) {
  const int at = line();
  next();  // is
  const bool negated = skip_name("not");
  const uint32_t name_at = cur().offset;
  auto e = make(ExprKind::Test, at);
  e->name = expect_identifier();
  while (skip_op(".")) e->name += "." + expect_identifier();
  const TokType t = cur().type;
  if (is_op("(")) {
    parse_call_args(*e);
  } else if ((t == TokType::Name || t == TokType::String || t == TokType::Integer ||
              t == TokType::Float || is_op("[") || is_op("{")) &&
             !is_name("else") && !is_name("or") && !is_name("and")) {
    if (is_name("is")) fail("You cannot chain multiple tests with is");
    e->items.push_back(parse_postfix(parse_primary()));
  }
  e->test = find_test(e->name);
  if (e->test == nullptr && !soft_) fail_at(name_at, "No test named " + pystr::repr(e->name) + ".");
  e->a = std::move(node);
  if (!negated) return e;
  auto n = make(ExprKind::Not, at);
  n->a = std::move(e);
  return n;
}

Target Parser::to_target(const Expr& e) const {
  Target t;
  if (e.kind == ExprKind::Name) {
    t.name = e.name;
    return t;
  }
  if (e.kind == ExprKind::TupleLit) {
    t.kind = Target::Kind::Tuple;
    for (const ExprPtr& item : e.items) t.items.push_back(to_target(*item));
    return t;
  }
  const char* what = e.kind == ExprKind::Literal ? "const" : "expression";
  fail(std::string("can't assign to '") + what + "'");
}

Target Parser::parse_assign_target(bool with_namespace,
                                   std::initializer_list<std::string_view> extra_end) {
  if (with_namespace && cur().type == TokType::Name && look().type == TokType::Operator &&
      look().value == ".") {
    Target t;
    t.kind = Target::Kind::NsAttr;
    t.name = next().value;
    next();
    t.attr = expect_identifier();
    return t;
  }
  ExprPtr e = parse_tuple(true, true, extra_end);
  return to_target(*e);
}

}  // namespace minima::jinja
