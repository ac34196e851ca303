// Statement half of the parser: template data, {{ }} output and the {% %} tags.
#include <functional>

#include "runtime/chat/error.hpp"
#include "runtime/chat/parser.hpp"
#include "runtime/chat/parser_impl.hpp"
#include "runtime/chat/pystr.hpp"

namespace minima::jinja {

Body parse_template(std::string_view normalized_source) {
  Parser p(normalized_source, tokenize(normalized_source));
  return p.parse_all();
}

Body Parser::parse_all() {
  Body body = subparse({});
  if (cur().type != TokType::Eof) fail("unexpected '" + describe(cur()) + "'");
  return body;
}

void Parser::expect_block_end() {
  if (cur().type != TokType::BlockEnd) {
    fail("expected token 'end of statement block', got '" + describe(cur()) + "'");
  }
  next();
}

void Parser::fail_eof_or_unknown(const std::string* tag) const {
  std::vector<std::string> expected;
  for (const auto& level : end_token_stack_) {
    for (std::string_view t : level) expected.emplace_back(t);
  }
  std::string looking;
  if (!end_token_stack_.empty()) {
    for (std::string_view t : end_token_stack_.back()) {
      if (!looking.empty()) looking += " or ";
      looking += pystr::repr(t);
    }
  }
  std::string msg = tag == nullptr ? "Unexpected end of template."
                                   : "Encountered unknown tag " + pystr::repr(*tag) + ".";
  if (!looking.empty()) {
    if (tag != nullptr && std::find(expected.begin(), expected.end(), *tag) != expected.end()) {
      msg +=
          " You probably made a nesting mistake. Jinja is expecting this tag, but currently "
          "looking for " +
          looking + ".";
    } else {
      msg += " Jinja was looking for the following tags: " + looking + ".";
    }
  }
  if (!tag_stack_.empty()) {
    msg +=
        " The innermost block that needs to be closed is " + pystr::repr(tag_stack_.back()) + ".";
  }
  fail(msg);
}

Body Parser::subparse(std::initializer_list<std::string_view> end_tokens) {
  Body body;
  if (end_tokens.size() > 0) end_token_stack_.emplace_back(end_tokens);
  while (cur().type != TokType::Eof) {
    const Token& t = cur();
    if (t.type == TokType::Text) {
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::Text;
      n->line = line();
      n->text = next().value;
      body.push_back(std::move(n));
    } else if (t.type == TokType::VarBegin) {
      next();
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::Output;
      n->line = line();
      n->expr = parse_tuple(false, true);
      if (cur().type != TokType::VarEnd) {
        fail("expected token 'end of print statement', got '" + describe(cur()) + "'");
      }
      next();
      body.push_back(std::move(n));
    } else if (t.type == TokType::BlockBegin) {
      next();
      if (cur().type == TokType::Name) {
        for (std::string_view e : end_tokens) {
          if (cur().value == e) {
            end_token_stack_.pop_back();
            return body;
          }
        }
      }
      body.push_back(parse_statement());
      expect_block_end();
    } else {
      fail("unexpected '" + describe(t) + "'");
    }
  }
  if (end_tokens.size() > 0) end_token_stack_.pop_back();
  return body;
}

Body Parser::parse_statements(std::initializer_list<std::string_view> end_tokens,
                              bool drop_needle) {
  skip_op(":");
  expect_block_end();
  enter();
  Body body = subparse(end_tokens);
  leave();
  if (cur().type == TokType::Eof) {
    end_token_stack_.emplace_back(end_tokens);
    fail_eof_or_unknown(nullptr);
  }
  if (drop_needle) next();
  return body;
}

NodePtr Parser::parse_statement() {
  if (cur().type != TokType::Name) fail("tag name expected");
  const std::string tag = cur().value;
  tag_stack_.push_back(tag);
  NodePtr node;
  if (tag == "for") {
    node = parse_for();
  } else if (tag == "if") {
    node = parse_if();
  } else if (tag == "set") {
    node = parse_set();
  } else if (tag == "macro") {
    node = parse_macro();
  } else if (tag == "call") {
    node = parse_call_block();
  } else if (tag == "filter") {
    node = parse_filter_block();
  } else if (tag == "with") {
    node = parse_with();
  } else if (tag == "print") {
    node = parse_print();
  } else if (tag == "break" || tag == "continue") {
    if (loop_depth_ == 0) fail("'" + tag + "' outside loop");
    node = std::make_unique<Node>();
    node->kind = tag == "break" ? NodeKind::Break : NodeKind::Continue;
    node->line = line();
    next();
  } else if (tag == "generation") {
    node = std::make_unique<Node>();
    node->kind = NodeKind::Scope;
    node->line = line();
    next();
    node->body = parse_statements({"endgeneration"}, true);
  } else if (tag == "block" || tag == "extends" || tag == "include" || tag == "import" ||
             tag == "from" || tag == "autoescape") {
    fail("the '" + tag + "' tag is not supported in chat templates");
  } else {
    tag_stack_.pop_back();
    fail_eof_or_unknown(&tag);
  }
  tag_stack_.pop_back();
  return node;
}

NodePtr Parser::parse_for() {
  auto node = std::make_unique<Node>();
  node->kind = NodeKind::For;
  node->line = line();
  next();
  node->target = parse_assign_target(false, {"in"});
  expect_name("in");
  node->expr = parse_tuple(false, false, {"recursive"});
  const bool was_soft = soft_;
  soft_ = false;
  if (skip_name("if")) node->cond = parse_expression();
  node->recursive = skip_name("recursive");
  ++loop_depth_;
  node->body = parse_statements({"endfor", "else"}, false);
  --loop_depth_;
  if (next().value == "else") node->else_body = parse_statements({"endfor"}, true);
  soft_ = was_soft;
  return node;
}

NodePtr Parser::parse_if() {
  auto node = std::make_unique<Node>();
  node->kind = NodeKind::If;
  node->line = line();
  next();
  const bool was_soft = soft_;
  soft_ = true;
  while (true) {
    ExprPtr cond = parse_tuple(false, false);
    Body body = parse_statements({"elif", "else", "endif"}, false);
    node->branches.emplace_back(std::move(cond), std::move(body));
    const std::string tok = next().value;
    if (tok == "elif") continue;
    if (tok == "else") node->branches.emplace_back(nullptr, parse_statements({"endif"}, true));
    break;
  }
  soft_ = was_soft;
  return node;
}

NodePtr Parser::parse_set() {
  auto node = std::make_unique<Node>();
  node->line = line();
  next();
  node->target = parse_assign_target(true, {});
  if (skip_op("=")) {
    node->kind = NodeKind::Set;
    node->expr = parse_tuple();
    return node;
  }
  node->kind = NodeKind::SetBlock;
  if (is_op("|")) {
    const int base = depth_;
    node->expr = parse_filter(nullptr);
    depth_ = base;
  }
  const bool was_soft = soft_;
  soft_ = false;
  node->body = parse_statements({"endset"}, true);
  soft_ = was_soft;
  return node;
}

void Parser::parse_signature(Node& node) {
  expect_op("(");
  bool any_default = false;
  while (!is_op(")")) {
    if (!node.params.empty()) expect_op(",");
    node.params.push_back(expect_identifier());
    if (skip_op("=")) {
      node.defaults.push_back(parse_expression());
      any_default = true;
    } else {
      if (any_default) fail("non-default argument follows default argument");
      node.defaults.push_back(nullptr);
    }
  }
  expect_op(")");
}

namespace {

void visit_names(const Expr* e, const std::function<void(const std::string&)>& f) {
  if (e == nullptr) return;
  if (e->kind == ExprKind::Name) f(e->name);
  visit_names(e->a.get(), f);
  visit_names(e->b.get(), f);
  visit_names(e->c.get(), f);
  for (const ExprPtr& x : e->items) visit_names(x.get(), f);
  for (const auto& kw : e->kwargs) visit_names(kw.second.get(), f);
  visit_names(e->star_args.get(), f);
  visit_names(e->star_kwargs.get(), f);
}

void visit_body(const Body& body, const std::function<void(const std::string&)>& f) {
  for (const NodePtr& n : body) {
    visit_names(n->expr.get(), f);
    visit_names(n->cond.get(), f);
    for (const auto& [cond, b] : n->branches) {
      visit_names(cond.get(), f);
      visit_body(b, f);
    }
    for (const ExprPtr& d : n->defaults) visit_names(d.get(), f);
    for (const auto& a : n->assigns) visit_names(a.second.get(), f);
    visit_body(n->body, f);
    visit_body(n->else_body, f);
  }
}

}  // namespace

void Parser::mark_special_names(Node& node) const {
  visit_body(node.body, [&node](const std::string& name) {
    if (name == "caller") node.uses_caller = true;
    if (name == "varargs") node.uses_varargs = true;
    if (name == "kwargs") node.uses_kwargs = true;
  });
}

NodePtr Parser::parse_macro() {
  auto node = std::make_unique<Node>();
  node->kind = NodeKind::Macro;
  node->line = line();
  next();
  node->name = expect_identifier();
  parse_signature(*node);
  const bool was_soft = soft_;
  const int was_loop = loop_depth_;
  soft_ = false;
  loop_depth_ = 0;
  node->body = parse_statements({"endmacro"}, true);
  soft_ = was_soft;
  loop_depth_ = was_loop;
  mark_special_names(*node);
  return node;
}

NodePtr Parser::parse_call_block() {
  auto node = std::make_unique<Node>();
  node->kind = NodeKind::CallBlock;
  node->line = line();
  next();
  if (is_op("(")) parse_signature(*node);
  node->expr = parse_expression();
  if (node->expr->kind != ExprKind::Call) fail("expected call");
  const bool was_soft = soft_;
  const int was_loop = loop_depth_;
  soft_ = false;
  loop_depth_ = 0;
  node->body = parse_statements({"endcall"}, true);
  soft_ = was_soft;
  loop_depth_ = was_loop;
  mark_special_names(*node);
  return node;
}

NodePtr Parser::parse_filter_block() {
  auto node = std::make_unique<Node>();
  node->kind = NodeKind::FilterBlock;
  node->line = line();
  next();
  // The first filter has no leading pipe; parse it as if it had one.
  const Token pipe{TokType::Operator, "|", 0, 0, cur().offset};
  tokens_.insert(tokens_.begin() + static_cast<std::ptrdiff_t>(pos_), pipe);
  const int base = depth_;
  node->expr = parse_filter(nullptr);
  depth_ = base;
  const bool was_soft = soft_;
  soft_ = false;
  node->body = parse_statements({"endfilter"}, true);
  soft_ = was_soft;
  return node;
}

NodePtr Parser::parse_with() {
  auto node = std::make_unique<Node>();
  node->kind = NodeKind::With;
  node->line = line();
  next();
  while (cur().type != TokType::BlockEnd) {
    if (!node->assigns.empty()) expect_op(",");
    Target t = parse_assign_target(false, {});
    expect_op("=");
    node->assigns.emplace_back(std::move(t), parse_expression());
  }
  const bool was_soft = soft_;
  soft_ = false;
  node->body = parse_statements({"endwith"}, true);
  soft_ = was_soft;
  return node;
}

NodePtr Parser::parse_print() {
  auto node = std::make_unique<Node>();
  node->kind = NodeKind::Scope;
  node->line = line();
  next();
  while (cur().type != TokType::BlockEnd) {
    if (!node->body.empty()) expect_op(",");
    auto out = std::make_unique<Node>();
    out->kind = NodeKind::Output;
    out->line = line();
    out->expr = parse_expression();
    node->body.push_back(std::move(out));
  }
  return node;
}

}  // namespace minima::jinja
