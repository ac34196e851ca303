#!/usr/bin/env python3
# Regenerates the expectation tables of tests/runtime/chat_template_*_test.cpp from Python
# Jinja2 itself, set up the way Hugging Face transformers renders chat templates
# (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, the generation tag,
# raise_exception, strftime_now at a fixed time and transformers' tojson).
#
#   python3 tests/runtime/chat_template_cases.py    # needs jinja2 (tested with 3.1.6)
#
# Each table row is {name, template, context JSON, expected text, expected error}; the error
# column is the exact str() of the exception Jinja2 raised (nullptr when it rendered).
import json
import os
import sys
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment


class GenerationTag(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.fromisoformat("2026-07-15T08:30:00").strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


CTX = {
    "s": "Hello World", "e": "", "n": None, "t": True, "i": -3, "f": 1.5, "l": [1, 2, 3],
    "d": {"a": 1, "b": [1, 2], "c": {"k": "v"}}, "u8": "héllo 中文",
    "msgs": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
    "parts": [{"type": "text", "text": "hi"}, {"type": "image"}],
}

SYNTAX = [
    ("trim_and_lstrip_blocks", "a\n  {% if true %}\n    b\n  {% endif %}\nc\n"),
    ("minus_and_plus_markers", "a\n  {%- if true -%}\n    b\n  {%+ endif %}\nc"),
    ("variables_are_not_lstripped", "  {{ s }}  \n  {# comment #}  \nx\n  {#- c -#}  y"),
    ("for_loop_lines", "{% for i in l %}\n  - {{ i }}\n{% endfor %}\n"),
    ("for_loop_minus", "{% for i in l -%}\n  - {{ i }}\n{%- endfor %}"),
    ("variable_minus", "{%- for i in l %}  {{- i -}}  {% endfor -%}  end"),
    ("raw_block", "x {%- raw -%}  {{ not parsed }} {% if %} {%- endraw -%} y"),
    ("raw_block_keeps_newline", "x {% raw %}\n {{ a }}\n  {% endraw %}\ny"),
    ("raw_block_lstrip", "  {% raw %}r{% endraw %}  \n  z"),
    ("one_trailing_newline_dropped", "{{ 'a' }}\n{{ 'b' }}\n\n"),
    ("newlines_normalized", "line1\r\nline2\r{{ s }}\rend"),
    ("multiline_comment", "{# multi\nline #}\n{{ s }}"),
    ("tabs_lstripped", "\t{% if true %}\tT{% endif %}\t\n\t{% set z = 1 %}\n{{ z }}"),
    ("lstrip_after_trimmed_line", "x\n    {%- set a = 1 %}\ny"),
    ("if_elif_else", "{% if true %}a{% elif false %}b{% else %}c{% endif %}"
                     "{% if false %}a{% elif true %}b{% else %}c{% endif %}"
                     "{% if false %}a{% elif false %}b{% else %}c{% endif %}"),
    ("string_literals", "{{ 'a' 'b' \"c\" }}|{{ '\\x41\\101\\u00e9\\N{BULLET}\\q\\\\' }}|{{ \"it's\" }}|{{ 'a\nb' }}"),
    ("number_literals", "{{ 1_000 }}|{{ 0x1F }}|{{ 0b101 }}|{{ 0o17 }}|{{ 1.5e3 }}|{{ 1E-2 }}|{{ 2.0 }}|{{ 00 }}"),
    ("nested_braces", "{{ {\"a\": {\"b\": 1}}[\"a\"][\"b\"] }}|{{ {\"a\":{\"b\":{\"c\":1}}} }}"),
    ("trailing_commas", "{{ [1,2,][1] }}|{{ {\"a\":1,}|length }}|{{ (1,2,)|length }}"),
    ("precedence", "{{ -2 ** 2 }}|{{ (-2) ** 2 }}|{{ 2 ** 3 ** 2 }}|{{ -1|abs }}|{{ not 1 == 2 }}|"
                   "{{ 1 + 2 * 3 - 4 / 2 }}|{{ 'a' ~ 1 + 2 }}|{{ 10 - 2 - 3 }}|{{ 2 * 3 % 4 }}"),
    ("inline_if", "{{ 1 if 0 else 2 if 0 else 3 }}|{{ 'a' if t else 'b' }}|{{ 'a' if n else 'b' }}|[{{ 'a' if n }}]"),
    ("boolean_operators_return_operands", "{{ 1 and 2 }}|{{ 0 and 2 }}|{{ 0 or 'x' }}|{{ not n }}|{{ n or e or 'z' }}"),
    ("chained_comparisons", "{{ 1 < 2 < 3 }}|{{ 1 < 3 < 2 }}|{{ 1 == 1.0 != 2 }}"),
    ("membership", "{{ 'b' in 'abc' }}|{{ 1 in l }}|{{ 5 not in l }}|{{ 'a' in d }}|{{ not 'a' in d }}"),
    ("generation_tag", "{% generation %}gen {{ s }}{% endgeneration %}"),
    ("print_statement", "{% print 'p', 1 %}"),
    ("dotted_index", "{{ msgs.0.role }}|{{ l.1 }}"),
    ("tuple_output", "{{ 1, 'a' }}|{{ (1,) }}|{{ () }}"),
]

VALUES = [
    ("numbers", "{{ 1 }}|{{ 1.0 }}|{{ 1e-5 }}|{{ 0.1+0.2 }}|{{ 1/3 }}|{{ 10/2 }}|{{ 7//2 }}|{{ -7//2 }}|"
                "{{ -7%3 }}|{{ 7%-3 }}|{{ 2**10 }}|{{ 2**-1 }}|{{ 7.5//2 }}|{{ -7.5%2 }}|{{ true + true }}"),
    ("float_repr", "{{ 1e16 }}|{{ 1e15 }}|{{ 0.0001 }}|{{ 0.00001 }}|{{ 1e22 }}|{{ 123456789.0 }}|{{ 5e-324 }}|"
                   "{{ -0.0 }}|{{ 1.23456789012345678 }}|{{ 1e300 * 1e300 }}|{{ -1e300 * 1e300 }}|"
                   "{{ (1e300*1e300) - (1e300*1e300) }}"),
    ("python_repr", "{{ none }}|{{ true }}|{{ n }}|{{ [1, 'a', none, true, 1.5] }}|{{ {'a': 1, 'b': 'x'} }}|"
                    "{{ parts }}|{{ d }}"),
    ("string_repr_quotes", "{{ ['it\\'s', 'say \"hi\"', 'both \\' \"', 'nl\\n', 'tab\\t', 'bs\\\\', '\\x01', "
                           "'\\u2028', 'é中', '\\U0001F600', '\\u00ad', '\\x85'] }}"),
    ("markup_repr", "{{ ['<b>'|safe] }}"),
    ("strings", "{{ u8|length }}|{{ u8[1:3] }}|{{ u8[::-1] }}|{{ 'abc'[1] }}|{{ 'abcdef'[1:5:2] }}|"
                "{{ 'abcdef'[5:1:-2] }}|{{ 'abc'[-5:] }}|{{ 'ab' * 3 }}|{{ 'x' ~ 1 ~ none ~ undef }}"),
    ("lists", "{{ l[0] }}|{{ l[-1] }}|{{ l[1:] }}|{{ l[:-1] }}|{{ l[::2] }}|{{ l[::-1] }}|{{ l[10:] }}|"
              "{{ l + [4] }}|{{ [1] * 3 }}|{{ (1, 2) + (3,) }}"),
    ("dict_access", "{{ d.a }}|{{ d['a'] }}|{{ d.c.k }}|[{{ d.zz }}]|{{ d.get('a') }}|{{ d.get('q', 5) }}|"
                    "{{ d.keys()|list }}|{{ d.values()|list }}|{{ d.items()|list }}"),
    ("dict_keys", "{{ {1: 'a', 1.0: 'b', true: 'c'} }}|{{ {(1, 2): 3}[(1, 2)] }}"),
    ("equality", "{{ [1,2] == [1,2] }}|{{ {'a':1,'b':2} == {'b':2,'a':1} }}|{{ 1 == 1.0 }}|{{ 1 == true }}|"
                 "{{ '1' == 1 }}|{{ none == none }}|{{ (1,) == [1] }}|{{ undef == undef2 }}|{{ undef == none }}"),
    ("ordering", "{{ [1] < [2] }}|{{ (1, 2) < (1, 3) }}|{{ 'a' < 'b' }}|{{ 2 >= 2.0 }}|{{ [1, 2] > [1] }}"),
    ("str_methods", "{{ s.upper() }}|{{ s.lower() }}|{{ s.split() }}|{{ s.split('o') }}|{{ 'a,b,,c'.split(',', 1) }}|"
                    "{{ s.startswith('He') }}|{{ s.endswith(('x', 'ld')) }}|{{ s.replace('l', 'L') }}|"
                    "{{ '  x '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\\n\\nx'.lstrip('\\n') }}|{{ s.rstrip('dl') }}"),
    ("str_methods_2", "{{ s.find('o') }}|{{ s.rfind('o') }}|{{ s.count('l') }}|{{ '-'.join(['a', 'b']) }}|"
                      "{{ s.title() }}|{{ 'a b'.capitalize() }}|{{ 'x'.center(7, '*') }}|{{ 'ab'.center(7) }}|"
                      "{{ 'a'.ljust(3, '-') }}|{{ '-5'.zfill(4) }}|{{ 'a=b=c'.partition('=') }}|{{ 'a=b=c'.rpartition('=') }}"),
    ("str_methods_3", "{{ 'a\\nb\\r\\nc'.splitlines() }}|{{ ' a b '.rsplit(None, 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|"
                      "{{ 'Ab'.swapcase() }}|{{ 'ab'.isalpha() }}|{{ '12'.isdigit() }}|{{ ' '.isspace() }}|"
                      "{{ 'Ab Cd'.istitle() }}|{{ ''.isupper() }}|{{ 'abc'.removeprefix('a') }}|{{ s.index('W') }}"),
    ("unicode_case", "{{ u8.upper() }}|{{ 'ß'|upper }}|{{ u8|title }}|{{ 'ǆ'.title() }}|{{ u8.find('中') }}|{{ u8.split(' ') }}"),
    ("str_format", "{{ '{} and {}'.format(1, 'x') }}|{{ '{0}{1}{0}'.format('a', 'b') }}|{{ '{x}'.format(x=1) }}|"
                   "{{ '{:>5}|{:.2f}|{:03d}'.format('a', 3.14159, 7) }}|{{ '{:<4}|{:^5}|{:*>4}'.format(1, 'ab', 2) }}|"
                   "{{ '{:,}'.format(1234567) }}|{{ '{:.1%}'.format(0.256) }}|{{ '{!r}'.format('a') }}|{{ '{:e}'.format(1234.5) }}"),
    ("percent_format", "{{ '%s is %d' % ('x', 3) }}|{{ '%.2f' % 1.005 }}|{{ '%r' % 'a' }}|{{ '%5s|%-5s|' % ('a', 'b') }}|"
                       "{{ '%x %o %c' % (255, 8, 65) }}|{{ '%(a)s' % {'a': 1} }}|{{ '100%%' % () }}"),
    ("markup_arithmetic", "{{ 'a'|safe + '<b>' }}|{{ '<b>' + 'a'|safe }}|{{ ('a'|safe + '<>')|length }}|"
                          "{{ ('<a>'|safe).upper() }}|{{ 'a'|safe ~ '<' }}|{{ '%s'|safe % '<' }}|{{ ('x'|safe) * 2 }}"),
    ("markup_functionary_tools", "{{ \"Use '\"|safe + s + \"'\\n\"|safe + d|tojson }}"),
    ("tojson", "{{ l|tojson }}|{{ d|tojson }}|{{ 'é\\n\"<>&\\''|tojson }}|{{ 1.0|tojson }}|{{ [none, true, 1e100]|tojson }}|"
               "{{ (1, 2)|tojson }}|{{ {1: 2, none: 3, true: 4, 1.5: 5}|tojson }}|{{ ('<'|safe)|tojson }}"),
    ("tojson_indent", "{{ d|tojson(indent=2) }}|{{ 'x'|tojson(indent='\\t') }}|{{ {'a': []}|tojson(indent=1) }}|"
                      "{{ {'a': {}}|tojson(indent=0) }}|{{ [[1]]|tojson(indent=-1) }}"),
    ("tojson_options", "{{ d|tojson(sort_keys=true) }}|{{ {'b': 1, 'a': 2}|tojson(sort_keys=true, separators=(',', ':')) }}|"
                       "{{ 'é'|tojson(ensure_ascii=true) }}|{{ '\\U0001F600'|tojson(ensure_ascii=true) }}|{{ {'k': 1}|tojson(2) }}|"
                       "{{ '\\u0000\\u001f\\u007f\\u0080\\u2028'|tojson }}|{{ [1e300*1e300]|tojson }}"),
    ("range_and_globals", "{{ range(3)|list }}|{{ range(1, 5, 2)|list }}|{{ range(5, 0, -2)|list }}|{{ dict(a=1) }}|"
                          "{{ namespace(a=1).a }}|{% set j = joiner('+') %}{% for x in l %}{{ j() }}{{ x }}{% endfor %}"),
    ("strftime_now", "{{ strftime_now('%Y-%m-%d %H:%M:%S %a %b %-d %j %A %B %p %I %y %e %U %W %w %u %%') }}|"
                     "{{ strftime_now('%d %b %Y') }}"),
    ("undefined_is_quiet", "[{{ undef }}]|{{ undef is defined }}|{{ undef|default('d') }}|{{ undef ~ 'x' }}|"
                           "{{ undef|length }}|{{ undef|list }}|{{ undef|trim }}|{{ 'a' in undef }}|{{ not undef }}|"
                           "{% for x in undef %}x{% endfor %}|{{ n.x }}|{{ n[0] }}|{{ i.x }}|{{ d.zz is defined }}"),
    ("sameas", "{% set a = [1, 2] %}{% set b = a %}{{ a is sameas b }}|{{ [1] is sameas [1] }}|{{ n is sameas none }}|{{ 1 is sameas 1 }}"),
]

FILTERS = [
    ("string_filters", "{{ s|lower }}|{{ s|upper }}|{{ s|title }}|{{ 'hello wORLD-foo bar(baz)'|title }}|{{ s|capitalize }}|"
                       "{{ '  x  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ s|length }}|{{ u8|upper }}|{{ u8|reverse }}"),
    ("sequence_filters", "{{ l|first }}|{{ l|last }}|{{ l|join(',') }}|{{ l|join }}|{{ l|sum }}|{{ l|min }}|{{ l|max }}|"
                         "{{ l|reverse|list }}|{{ l|length }}|[{{ []|first }}]|{{ d|list }}|{{ d|items|list }}|{{ 'abc'|list }}"),
    ("map_select", "{{ msgs|map(attribute='role')|list }}|{{ msgs|selectattr('role', 'equalto', 'user')|list }}|"
                   "{{ msgs|rejectattr('role', 'equalto', 'user')|list }}|{{ l|select('odd')|list }}|{{ l|reject('odd')|list }}|"
                   "{{ l|map('string')|list }}|{{ parts|selectattr('text', 'defined')|list }}"),
    ("map_attribute_paths", "{{ [{'a': {'b': 5}}]|map(attribute='a.b')|list }}|{{ [{'a': [7]}]|map(attribute='a.0')|list }}|"
                            "{{ [{}, {'a': 1}]|map(attribute='a', default=9)|list }}"),
    ("select_tests", "{{ ['a', 'b']|select('in', ['a'])|list }}|{{ [1, 2, 3]|select('gt', 1)|list }}|{{ [0, 1, '']|select|list }}|"
                     "{{ [{'a': 0}, {'a': 1}]|selectattr('a')|list }}"),
    ("filters_on_none", "{{ n|selectattr('a')|list }}|{{ n|map(attribute='a')|list }}|{{ n|reject('odd')|list }}"),
    ("sort_unique", "{{ ['b', 'A', 'a']|sort }}|{{ ['b', 'A', 'a']|sort(case_sensitive=true) }}|{{ ['a', 'A', 'b']|unique|list }}|"
                    "{{ [3, 1, 2]|sort(reverse=true) }}|{{ [{'a': 2}, {'a': 1}]|sort(attribute='a') }}|"
                    "{{ [{'a': 1, 'b': 2}, {'a': 1, 'b': 1}]|sort(attribute='a,b') }}|{{ [{'a': 1}, {'a': 1}]|unique(attribute='a')|list }}"),
    ("dictsort_groupby", "{% for k, v in {'b': 1, 'a': 2}|dictsort %}{{ k }}{{ v }}{% endfor %}|"
                         "{{ {'b': 1, 'a': 2}|dictsort(by='value', reverse=true) }}|"
                         "{% for x in [{'n': 'a', 'g': 1}, {'n': 'b', 'g': 2}, {'n': 'c', 'g': 1}]|groupby('g') %}"
                         "{{ x.grouper }}:{{ x.list|map(attribute='n')|join }};{% endfor %}"),
    ("batch_slice_sum", "{{ [1, 2, 3, 4, 5]|batch(2)|list }}|{{ [1, 2, 3, 4, 5]|batch(2, 0)|list }}|"
                        "{{ [1, 2, 3, 4, 5]|slice(2)|list }}|{{ [{'a': 1}, {'a': 2}]|sum(attribute='a') }}|{{ [[1], [2]]|sum(start=[]) }}"),
    ("min_max", "{{ [3, 1, 2]|max }}|{{ ['b', 'A']|max }}|{{ ['b', 'A']|max(case_sensitive=true) }}|[{{ []|max }}]|"
                "{{ [{'a': 3}, {'a': 5}]|min(attribute='a') }}"),
    ("numeric_filters", "{{ i|abs }}|{{ f|round }}|{{ 2.5|round }}|{{ 3.14159|round(2) }}|{{ 2.675|round(2) }}|"
                        "{{ 3.7|round(method='floor') }}|{{ 3|round }}|{{ 1234|round(-2) }}|{{ 2.5|round(0, 'ceil') }}"),
    ("int_float_filters", "{{ '42'|int }}|{{ '4.2'|int }}|{{ 'x'|int }}|{{ 'x'|int(7) }}|{{ '0x1A'|int(0, 16) }}|{{ '3.5'|float }}|"
                          "{{ 'a'|float }}|{{ 3|float }}|{{ 3.9|int }}|{{ n|int }}|{{ '  1_000  '|int }}|{{ '-0b11'|int(base=0) }}|"
                          "{{ '1e3'|int }}|{{ 'inf'|float }}|{{ ' 1_0.5 '|float }}|{{ '.5'|float }}|{{ true|int }}|{{ 'inf'|int }}"),
    ("replace_indent", "{{ s|replace('o', '0') }}|{{ s|replace('o', '0', 1) }}|{{ 'a\\nb\\n\\nc'|indent }}|"
                       "{{ 'a\\nb\\n\\nc'|indent(2, true) }}|{{ 'a\\nb\\n\\nc'|indent(2, first=true, blank=true) }}|"
                       "{{ 'a\\nb'|indent('--') }}|{{ ''|indent }}|{{ '\\n\\nx'|indent(blank=true) }}"),
    ("misc_string_filters", "{{ s|wordcount }}|{{ '%s-%05.1f'|format('a', 3.14159) }}|{{ s|center(20) }}|{{ s|truncate(8) }}|"
                            "{{ 'hello world foo'|truncate(11, leeway=0) }}|{{ '<p>a  b</p><!-- c -->&amp;'|striptags }}|"
                            "{{ 'Hello'|attr('upper')() }}|[{{ {'a': 1}|attr('a') }}]"),
    ("trim_stringifies", "{{ parts|trim }}|{{ n|trim }}|{{ 5|upper }}|{{ {'a': 'b'}|string }}|{{ 1|string|length }}"),
    ("default_filter", "{{ n|default('d') }}|{{ undef|default('d') }}|{{ e|default('d') }}|{{ e|default('d', true) }}|{{ undef|d('x') }}"),
    ("escape_safe", "{{ '<x>'|e }}|{{ '<x>'|escape|escape }}|{{ '<x>'|forceescape }}|{{ ['<']|join|e }}|"
                    "{{ 'x' is escaped }}|{{ 'x'|safe is escaped }}"),
    ("type_tests", "{{ n is none }}|{{ l is iterable }}|{{ s is string }}|{{ d is mapping }}|{{ 1 is number }}|{{ t is number }}|"
                   "{{ l is sequence }}|{{ d is sequence }}|{{ undef is iterable }}|{{ n is iterable }}|{{ t is boolean }}|"
                   "{{ 1 is integer }}|{{ 1.0 is float }}|{{ t is true }}|{{ 0 is false }}|{{ undef is undefined }}"),
    ("value_tests", "{{ 4 is even }}|{{ 3 is odd }}|{{ 9 is divisibleby 3 }}|{{ 1 is eq 1 }}|{{ 1 is equalto 1.0 }}|"
                    "{{ 2 is gt 1 }}|{{ 2 is lessthan 1 }}|{{ 'a' is in 'abc' }}|{{ 'abc' is lower }}|{{ 'ABC' is upper }}|"
                    "{{ 'upper' is filter }}|{{ 'odd' is test }}|{{ 2 is not odd }}|{{ 1 is ne 2 }}|{{ [1, 3]|select('>=', 2)|list }}"),
]

STATEMENTS = [
    ("loop_variables", "{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
                       "{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }}|{% endfor %}"),
    ("loop_cycle_changed", "{% for x in l %}{{ loop.cycle('a', 'b') }}{% endfor %}|{% for x in [1, 1, 2] %}{{ loop.changed(x) }}{% endfor %}"),
    ("for_else", "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in l %}{{ x }}{% else %}empty{% endfor %}"),
    ("for_over_dicts", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k in d %}{{ k }}{% endfor %}|"
                       "{% for k, v in d|items %}{{ k }}{% endfor %}|{% for c in 'ab' %}{{ c }}.{% endfor %}"),
    ("for_filter", "{% for x in l if x > 1 %}{{ loop.index }}/{{ loop.length }}{{ loop.last }} {% endfor %}"),
    ("break_continue", "{% for x in l %}{% if x == 2 %}{% continue %}{% endif %}{{ x }}{% endfor %}|"
                       "{% for x in l %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
    ("tuple_unpacking", "{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}|"
                        "{% for (a, b), c in [((1, 2), 3)] %}{{ a }}{{ b }}{{ c }}{% endfor %}|{% set p, q = 1, 2 %}{{ p }}{{ q }}"),
    ("nested_loops", "{% for x in [1, 2] %}{% for y in [3, 4] %}{{ loop.index }}{{ x }}{% endfor %}{{ loop.index }} {% endfor %}"),
    ("recursive_loop", "{% for item in [{'c': [{'c': []}]}, {'c': []}] recursive %}[{{ loop.depth }}{{ loop(item.c) }}]{% endfor %}"),
    ("set_in_loop_does_not_leak", "{% set a = 1 %}{% for x in l %}{% set a = x %}{% endfor %}{{ a }}|"
                                  "{% for x in l %}{% if loop.first %}{% set b = x %}{% endif %}[{{ b }}]{% endfor %}"),
    ("outer_value_visible_in_loop", "{% set a = 5 %}{% for x in l %}{{ a }}{% set a = x %}{{ a }},{% endfor %}{{ a }}"),
    ("set_in_if_is_visible", "{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}|{% with %}{% set x = 3 %}{% endwith %}{{ x }}"),
    ("namespace", "{% set ns = namespace(a=1) %}{% for x in l %}{% set ns.a = ns.a + x %}{% endfor %}{{ ns.a }}|"
                  "{% set n2 = namespace({'a': 1}, b=2) %}{{ n2.a }}{{ n2.b }}{{ n2['a'] }}|{% set n3 = namespace() %}{% set n3.x = 1 %}{{ n3 }}"),
    ("block_set", "{% set x2 %}block {{ s }}{% endset %}{{ x2 }}|{% set y | upper %}up{% endset %}{{ y }}|"
                  "{% set ns = namespace() %}{% set ns.v %}in ns{% endset %}{{ ns.v }}"),
    ("macros", "{% macro m(a, b=2, c='x') %}{{ a }}-{{ b }}-{{ c }}{% endmacro %}{{ m(1) }}|{{ m(1, 3) }}|{{ m(1, c='z') }}|"
               "[{{ m() }}]|{% macro v() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ v(1, 2, k=3) }}|{{ m }}"),
    ("macro_scoping", "{% set a = 1 %}{% macro m() %}{{ a }}{% endmacro %}{% set a = 2 %}{{ m() }}|"
                      "{% macro outer() %}{% macro inner() %}in{% endmacro %}{{ inner() }}{% endmacro %}{{ outer() }}|"
                      "{% for x in [1] %}{% set q = 5 %}{% macro m2() %}{{ q }}{{ x }}{% endmacro %}{{ m2() }}{% endfor %}"),
    ("recursive_macro", "{% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro %}{{ rec(5) }}"),
    ("macro_default_uses_param", "{% macro m(a, b=a * 2) %}{{ a }},{{ b }}{% endmacro %}{{ m(3) }}"),
    ("call_block", "{% macro m(x) %}[{{ caller(x) }}]{% endmacro %}{% call(y) m(5) %}got {{ y }}{% endcall %}"),
    ("filter_block", "{% filter upper %}hello {{ s }}{% endfilter %}|{% filter replace('a', 'b')|upper %}aaa{% endfilter %}"),
    ("with_block", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]"),
    ("loop_in_macro_sees_no_outer_loop", "{% macro m() %}{{ loop is defined }}{% endmacro %}{% for x in [1] %}{{ m() }}{% endfor %}"),
    ("soft_unknown_filter_in_if", "{% if false %}{{ x|nosuchfilter }}{% endif %}ok|{% if x is nosuchtest %}{% endif %}"),
    ("previtem_nextitem_defined", "{% for x in l %}{{ loop.previtem is defined }}{{ loop.nextitem is defined }} {% endfor %}"),
]

ERRORS = [
    ("undefined_attribute_of_undefined", "{{ undef.y }}"),
    ("undefined_call", "{{ undef() }}"),
    ("undefined_arithmetic", "{{ undef + 1 }}"),
    ("undefined_on_right", "{{ 1 + undef }}"),
    ("dict_missing_attribute_chain", "{{ d.zz.y }}"),
    ("list_missing_element_chain", "{{ l[9].x }}"),
    ("method_on_list", "{{ parts.startswith('a') }}"),
    ("str_plus_int", "{{ 'a' + 1 }}"),
    ("int_plus_str", "{{ 1 + 'a' }}"),
    ("str_plus_list", "{{ 'a' + parts }}"),
    ("str_plus_dict", "{{ 'a' + d }}"),
    ("list_plus_str", "{{ [1] + 'a' }}"),
    ("none_plus_int", "{{ n + 1 }}"),
    ("str_minus_str", "{{ 'a' - 'b' }}"),
    ("unary_minus_str", "{{ -'a' }}"),
    ("str_lt_int", "{{ 'a' < 1 }}"),
    ("none_lt_none", "{{ none < none }}"),
    ("seq_times_float", "{{ 'a' * 1.5 }}"),
    ("division_by_zero", "{{ 1 / 0 }}"),
    ("floor_division_by_zero", "{{ 1 // 0 }}"),
    ("modulo_by_zero", "{{ 1 % 0 }}"),
    ("float_division_by_zero", "{{ 1.0 / 0 }}"),
    ("float_floor_division_by_zero", "{{ 1.0 // 0 }}"),
    ("float_modulo_by_zero", "{{ 1.0 % 0 }}"),
    ("zero_to_negative_power", "{{ 0 ** -1 }}"),
    ("raise_exception", "{{ raise_exception('System role not supported') }}"),
    ("raise_exception_non_string", "{{ raise_exception(42) }}"),
    ("unsafe_list_append", "{{ l.append(4) }}"),
    ("unsafe_dict_update", "{{ d.update({}) }}"),
    ("none_not_iterable", "{% for x in n %}{% endfor %}"),
    ("int_not_iterable", "{% for x in 5 %}{% endfor %}"),
    ("list_of_none", "{{ n|list }}"),
    ("length_of_none", "{{ n|length }}"),
    ("join_none", "{{ n|join }}"),
    ("length_of_int", "{{ 5|length }}"),
    ("in_none", "{{ 1 in n }}"),
    ("int_in_str", "{{ 1 in 'abc' }}"),
    ("unhashable_in_dict", "{{ [1] in d }}"),
    ("tojson_undefined", "{{ undef|tojson }}"),
    ("tojson_namespace", "{{ {'a': namespace()}|tojson }}"),
    ("tojson_tuple_key", "{{ {(1, 2): 3}|tojson }}"),
    ("int_of_undefined", "{{ undef|int }}"),
    ("items_of_undefined_attr", "{{ undef.x|items }}"),
    ("unpack_int", "{% for a, b in l %}{% endfor %}"),
    ("unpack_too_many", "{% for a, b in [[1, 2, 3]] %}{% endfor %}"),
    ("unpack_too_few", "{% for a, b in [[1]] %}{% endfor %}"),
    ("set_attribute_on_non_namespace", "{% set n.a = 1 %}"),
    ("call_non_recursive_loop", "{% for x in l %}{{ loop(l) }}{% endfor %}"),
    ("call_str", "{{ s() }}"),
    ("macro_called_before_definition", "{{ m() }}{% macro m() %}x{% endmacro %}"),
    ("macro_too_many_arguments", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}"),
    ("macro_unknown_keyword", "{% macro m(a) %}{% endmacro %}{{ m(b=1) }}"),
    ("macro_keyword_and_positional", "{% macro m(a) %}{% endmacro %}{{ m(1, a=1) }}"),
    ("caller_without_call_block", "{% macro m() %}{{ caller() }}{% endmacro %}{{ m() }}"),
    ("range_too_big", "{{ range(200000)|length }}"),
    ("range_of_float", "{{ range(1.5) }}"),
    ("round_bad_method", "{{ 3|round(1, 'x') }}"),
    ("round_string", "{{ 'x'|round }}"),
    ("abs_string", "{{ 'a'|abs }}"),
    ("sort_mixed", "{{ [1, 'a']|sort }}"),
    ("unique_unhashable", "{{ [[1], [1]]|unique|list }}"),
    ("unknown_filter_in_soft_frame", "{% if true %}{{ x|nosuchfilter }}{% endif %}"),
    ("unknown_test_at_runtime", "{{ x if true else y|nosuchfilter }}{% if x is nosuchtest %}{% endif %}"),
    ("startswith_int", "{{ 'abc'.startswith(1) }}"),
    ("join_ints", "{{ 'x'.join([1, 2]) }}"),
    ("list_index_missing", "{{ l.index(9) }}"),
    ("percent_needs_number", "{{ '%d' % 'x' }}"),
    ("percent_too_few", "{{ '%s %s' % ('a',) }}"),
    ("percent_too_many", "{{ '%s' % ('a', 'b') }}"),
    ("format_missing_index", "{{ '{}'.format() }}"),
    ("format_missing_key", "{{ '{x}'.format(y=1) }}"),
    ("map_without_filter", "{{ l|map|list }}"),
    ("map_unknown_filter", "{{ l|map('nofilter')|list }}"),
    ("select_unknown_test", "{{ l|select('notest')|list }}"),
    ("dictsort_bad_by", "{{ d|dictsort(by='x') }}"),
    ("indent_int", "{{ 5|indent }}"),
    ("test_missing_argument", "{{ 4 is divisibleby }}"),
]

ALL = {"syntax": SYNTAX, "values": VALUES, "filters": FILTERS, "statements": STATEMENTS, "errors": ERRORS}


def c_string(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "?":
            out.append("?")
        elif o < 0x20 or o == 0x7F:
            out.append("\\%03o" % o)
        elif o >= 0x80:
            # UTF-8 bytes as octal escapes keep the source ASCII and unambiguous.
            out.append("".join("\\%03o" % b for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def table(rows):
    env = environment()
    lines = []
    ctx_json = json.dumps(CTX, ensure_ascii=False)
    for name, src in rows:
        try:
            want, error = env.from_string(src).render(**CTX), None
        except jinja2.exceptions.TemplateSyntaxError:
            raise  # syntax errors carry our own line/column prefix; test them separately
        except Exception as e:  # noqa: BLE001 - the message is the expectation
            want, error = None, str(e)
        lines.append("    {%s,\n     %s,\n     %s,\n     %s}," % (
            c_string(name), c_string(src), c_string(want) if want is not None else "nullptr",
            c_string(error) if error is not None else "nullptr"))
    return "\n".join(lines), ctx_json


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    for topic, rows in ALL.items():
        body, ctx_json = table(rows)
        path = os.path.join(here, "chat_template_%s_cases.inc" % topic)
        with open(path, "w", encoding="utf-8") as f:
            f.write("// Generated by chat_template_cases.py from Python Jinja2 %s; do not edit by hand.\n"
                    % jinja2.__version__)
            f.write("// {name, template, expected text or nullptr, expected error or nullptr}\n")
            f.write(body + "\n")
    with open(os.path.join(here, "chat_template_context.inc"), "w", encoding="utf-8") as f:
        f.write("// Generated by chat_template_cases.py; the context every table case renders with.\n")
        f.write(c_string(ctx_json) + "\n")
    print("wrote", ", ".join(ALL))
