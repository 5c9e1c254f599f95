#!/usr/bin/env python3
"""Validates llmd-bench result files against schema/result-v1.schema.json (JSON Schema 2020-12).

    validate_results.py SCHEMA DIR [--min N]

Every *.json file in DIR (the integration tests copy each result they write there, see
test/support/child_process.cpp) must be an `llmd-bench/result` v1 document that validates. Exits 0
when all do, 1 listing every violation (file, JSON path, message) otherwise, and 1 when DIR holds
fewer than N files (default 1): a check of nothing must not pass. Needs python3-jsonschema
(scripts/setup.sh installs it).
"""
import json
import pathlib
import sys


def main(argv):
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != "--min"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        import jsonschema
    except ImportError:
        print("validate_results: python3-jsonschema is missing; run scripts/setup.sh (apt-get install python3-jsonschema)",
              file=sys.stderr)
        return 1
    schema = json.loads(pathlib.Path(argv[1]).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = getattr(jsonschema.Draft202012Validator, "FORMAT_CHECKER", None) or jsonschema.FormatChecker()
    validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
    folder = pathlib.Path(argv[2])
    minimum = int(argv[4]) if len(argv) == 5 else 1
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if len(files) < minimum:
        print(f"validate_results: {len(files)} result files in {folder}, expected at least {minimum}: did the tests "
              "that write results run (ctest fixture llmd_results)?", file=sys.stderr)
        return 1
    bad = 0
    for path in files:
        try:
            document = json.loads(path.read_text())
        except ValueError as error:
            print(f"{path}: not JSON: {error}")
            bad += 1
            continue
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        for error in errors[:20]:
            where = "/" + "/".join(str(p) for p in error.absolute_path)
            print(f"{path}: {where}: {error.message[:300]}")
        if errors:
            bad += 1
    print(f"validate_results: {len(files) - bad} of {len(files)} result files valid against {argv[1]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
