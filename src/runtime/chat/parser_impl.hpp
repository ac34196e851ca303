// The parser's state, shared by the expression (parser_expr.cpp) and statement
// (parser_stmt.cpp) halves. Internal to the parser.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/chat/ast.hpp"
#include "runtime/chat/lexer.hpp"

namespace minima::jinja {

class Parser {
 public:
  Parser(std::string_view source, std::vector<Token> tokens)
      : source_(source), map_(source), tokens_(std::move(tokens)) {}

  Body parse_all();

 private:
  // ---- token stream ----
  const Token& cur() const { return tokens_[pos_]; }
  const Token& look() const { return tokens_[std::min(pos_ + 1, tokens_.size() - 1)]; }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool is_op(std::string_view op) const {
    return cur().type == TokType::Operator && cur().value == op;
  }
  bool is_name(std::string_view n) const { return cur().type == TokType::Name && cur().value == n; }
  bool skip_op(std::string_view op);
  bool skip_name(std::string_view n);
  void expect_op(std::string_view op);
  void expect_name(std::string_view n);
  std::string expect_identifier();
  void expect_block_end();
  int line() const { return map_.line(cur().offset); }
  [[noreturn]] void fail(const std::string& what) const;
  [[noreturn]] void fail_at(uint32_t offset, const std::string& what) const;
  std::string describe(const Token& t) const;

  // ---- expressions (parser_expr.cpp) ----
  ExprPtr make(ExprKind kind, int line) const;
  ExprPtr parse_expression(bool with_condexpr = true);
  ExprPtr parse_condexpr();
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter = true);
  ExprPtr parse_unary_filtered() { return parse_unary(true); }
  template <class Peek>
  ExprPtr left_assoc(ExprPtr (Parser::*operand)(), Peek peek);
  ExprPtr parse_primary();
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_filter_expr(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr node);
  ExprPtr parse_subscribed();
  ExprPtr parse_call(ExprPtr callee);
  void parse_call_args(Expr& call);
  ExprPtr parse_filter(ExprPtr node);
  ExprPtr parse_test(ExprPtr node);
  ExprPtr parse_list();
  ExprPtr parse_dict();
  // Comma-separated expressions; a lone expression without a comma is returned as is.
  ExprPtr parse_tuple(bool simplified = false, bool with_condexpr = true,
                      std::initializer_list<std::string_view> extra_end = {},
                      bool explicit_parentheses = false);
  bool is_tuple_end(std::initializer_list<std::string_view> extra_end) const;
  Target parse_assign_target(bool with_namespace,
                             std::initializer_list<std::string_view> extra_end);
  Target to_target(const Expr& e) const;
  void enter();  // bounds the nesting depth so that deep input cannot exhaust the stack
  void leave() { --depth_; }

  // ---- statements (parser_stmt.cpp) ----
  Body subparse(std::initializer_list<std::string_view> end_tokens);
  Body parse_statements(std::initializer_list<std::string_view> end_tokens, bool drop_needle);
  NodePtr parse_statement();
  NodePtr parse_for();
  NodePtr parse_if();
  NodePtr parse_set();
  NodePtr parse_macro();
  NodePtr parse_call_block();
  NodePtr parse_filter_block();
  NodePtr parse_with();
  NodePtr parse_print();
  void parse_signature(Node& node);
  void mark_special_names(Node& node) const;
  [[noreturn]] void fail_eof_or_unknown(const std::string* tag) const;

  std::string_view source_;
  SourceMap map_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;  // for break/continue
  // Inside an if statement or an inline if, unknown filters and tests are errors only when they
  // run (Jinja's "soft frames"), so `{% if x is foo %}` guards can test for optional features.
  bool soft_ = false;
  std::vector<std::string> tag_stack_;
  std::vector<std::vector<std::string_view>> end_token_stack_;
};

}  // namespace minima::jinja
