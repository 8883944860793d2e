#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Validate qemuctl --json output against docs/schema/qemuctl-v2.json.

    json_schema.py SCHEMA DEF [--lines] < output

DEF names a document in the schema's $defs ("vm-list", "doctor", ...).
--lines: every non-empty input line is one document (events --follow,
progress lines).  A small hand-written validator of the JSON Schema subset
the schema uses (type, properties, required, additionalProperties, items,
enum, const, pattern, minimum, maximum, $ref to #/$defs/...), so the test needs
nothing beyond python3.  Exit 0 valid, 1 invalid (each error on stderr).
"""
import json
import re
import sys

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
KNOWN = {"type", "properties", "required", "additionalProperties", "items", "enum",
         "const", "pattern", "minimum", "maximum", "$ref", "description", "title", "$comment"}


def validate(root, schema, v, path, errors):
    unknown = set(schema) - KNOWN
    if unknown:
        raise SystemExit(f"schema at {path}: unsupported keywords {sorted(unknown)}")
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/"):
            raise SystemExit(f"schema at {path}: only #/$defs/ references: {ref}")
        validate(root, root["$defs"][ref[len("#/$defs/"):]], v, path, errors)
        # siblings of $ref (2020-12) add to it: only "required" is used
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](v) for t in types):
            errors.append(f"{path}: {json.dumps(v)[:80]} is not of type {'|'.join(types)}")
            return
    if "enum" in schema and v not in schema["enum"]:
        errors.append(f"{path}: {json.dumps(v)} not one of {schema['enum']}")
    if "const" in schema and v != schema["const"]:
        errors.append(f"{path}: {json.dumps(v)} is not {json.dumps(schema['const'])}")
    if "pattern" in schema and isinstance(v, str) and not re.search(schema["pattern"], v):
        errors.append(f"{path}: '{v}' does not match /{schema['pattern']}/")
    if "minimum" in schema and TYPES["number"](v) and v < schema["minimum"]:
        errors.append(f"{path}: {v} < {schema['minimum']}")
    if "maximum" in schema and TYPES["number"](v) and v > schema["maximum"]:
        errors.append(f"{path}: {v} > {schema['maximum']}")
    if isinstance(v, dict):
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            if k not in v:
                errors.append(f"{path}: missing required '{k}'")
        for k, sub in v.items():
            if k in props:
                validate(root, props[k], sub, f"{path}.{k}", errors)
            else:
                extra = schema.get("additionalProperties", True)
                if extra is False:
                    errors.append(f"{path}: '{k}' is not in the schema (document it)")
                elif isinstance(extra, dict):
                    validate(root, extra, sub, f"{path}.{k}", errors)
    if isinstance(v, list) and "items" in schema:
        for i, sub in enumerate(v):
            validate(root, schema["items"], sub, f"{path}[{i}]", errors)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    lines = "--lines" in sys.argv
    if len(args) != 2:
        sys.exit(__doc__)
    with open(args[0]) as f:
        root = json.load(f)
    if args[1] not in root["$defs"]:
        sys.exit(f"no document '{args[1]}' in {args[0]}")
    text = sys.stdin.read()
    docs = []
    try:
        if lines:
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            docs = [json.loads(text)]
    except json.JSONDecodeError as e:
        sys.exit(f"{args[1]}: not JSON ({e}): {text[:200]!r}")
    if not docs:
        sys.exit(f"{args[1]}: no document on input")
    errors = []
    for i, d in enumerate(docs):
        validate(root, {"$ref": "#/$defs/" + args[1]}, d, f"{args[1]}[{i}]" if lines else args[1],
                 errors)
    for e in errors:
        print(e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
