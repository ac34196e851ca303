// Parses a normalized template source into a statement tree, following Jinja2's grammar and
// operator precedence. Syntax errors throw TemplateError naming line and column.
#pragma once

#include <string_view>

#include "runtime/chat/ast.hpp"

namespace minima::jinja {

Body parse_template(std::string_view normalized_source);

// Filter and test tables (filters.cpp, predicates.cpp); null when unknown.
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);

}  // namespace minima::jinja
