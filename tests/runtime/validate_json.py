#!/usr/bin/env python3
"""Independent check of constrained decoding (tests/runtime/structured_output_test.cpp).

Reads a JSON file: a list of {"model", "name", "schema", "min_distinct"?, "outputs": [text...]}.
Every output must parse as strict JSON (no NaN/Infinity, no trailing data) and validate against
its schema with python3-jsonschema's Draft 2020-12 validator; the parsed values of one schema,
pooled over the models, must include at least min_distinct (default 5) different values, so a
constraint that collapsed sampling to one canned answer fails. (Per model that is not asked: a
tiny random-weight model may put nearly all its mass on one token, e.g. always "true".) Prints one line per problem; exit status 1 if any.
"""
import json
import sys

import jsonschema


def reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def main(path):
    cases = json.load(open(path, encoding="utf-8"))
    problems = 0
    total = 0
    distinct_by_name = {}
    want_by_name = {}
    for case in cases:
        validator = jsonschema.Draft202012Validator(case["schema"])
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
