#!/usr/bin/env python3
"""Independent check of constrained decoding (tests/runtime/structured_output_test.cpp).

Reads a JSON file: a list of {"model", "name", "schema", "min_distinct"?, "outputs": [text...]}.
Every output must parse as strict JSON (no NaN/Infinity, no trailing data) and validate against
its schema with python3-jsonschema's Draft 2020-12 validator; the parsed values of one schema,
pooled over the models, must include at least min_distinct (default 5) different values, so a
constraint that collapsed sampling to one canned answer fails. (Per model that is not asked: a
tiny random-weight model may put nearly all its mass on one token, e.g. always "true".) Prints one line per problem; exit status 1 if any.
"""
import datetime
import json
import re
import sys

import jsonschema

# Debian's jsonschema checks date, email and uuid itself; RFC 3339 time and date-time need a
# package it does not ship, so they are checked here (strictly: the RFC's grammar, then a real
# calendar/clock value).
_TIME = r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)"
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("time", raises=ValueError)
def check_time(value):
    if not isinstance(value, str):
        return True
    if not re.fullmatch(_TIME, value):
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    return True


@FORMATS.checks("date-time", raises=ValueError)
def check_date_time(value):
    if not isinstance(value, str):
        return True
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[Tt](" + _TIME + ")", value)
    if not m:
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    datetime.date.fromisoformat(m.group(1))
    return True


def reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def main(path):
    cases = json.load(open(path, encoding="utf-8"))
    problems = 0
    total = 0
    distinct_by_name = {}
    want_by_name = {}
    for case in cases:
        validator = jsonschema.Draft202012Validator(case["schema"], format_checker=FORMATS)
        jsonschema.Draft202012Validator.check_schema(case["schema"])
        distinct = distinct_by_name.setdefault(case["name"], set())
        want_by_name[case["name"]] = case.get("min_distinct", 5)
        for text in case["outputs"]:
            total += 1
            try:
                value = json.loads(text, parse_constant=reject_constant)
            except ValueError as e:
                print(f"{case['model']} {case['name']}: does not parse ({e}): {text!r}")
                problems += 1
                continue
            errors = list(validator.iter_errors(value))
            if errors:
                print(f"{case['model']} {case['name']}: invalid ({errors[0].message}): {text!r}")
                problems += 1
                continue
            distinct.add(json.dumps(value, sort_keys=True))
    for name, distinct in distinct_by_name.items():
        if len(distinct) < want_by_name[name]:
            print(f"{name}: only {len(distinct)} distinct valid values over all models "
                  f"(want >= {want_by_name[name]})")
            problems += 1
    print(f"checked {total} outputs of {len(cases)} schema/model pairs: {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
