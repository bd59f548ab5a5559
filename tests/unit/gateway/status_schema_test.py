#!/usr/bin/env python3
"""docs/status.schema.json against real status JSON (issue 16).

  status_schema_test.py SCHEMA [SAMPLE_PROGRAM | --file JSON_LINES]

Every document the sample program prints (status_json_sample: natgated's renderer over a real
IKE SA table) must validate; then the same documents with a field renamed, a type changed or the
schema_version altered must NOT, so that the check cannot pass by accepting anything.
Exit 0 when both hold, 1 otherwise, 77 (skipped) without python3-jsonschema.
"""
import copy
import json
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is missing (tools/install-deps.sh --test): skipped")
    sys.exit(77)


def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    if sys.argv[2] == "--file":
        text = open(sys.argv[3]).read()
    else:
        text = subprocess.run([sys.argv[2]], check=True, capture_output=True, text=True).stdout
    docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    if not docs:
        print("no status documents to check")
        return 1
    failed = 0
    for i, doc in enumerate(docs):
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        for e in errors:
            print(f"document {i}: {'/'.join(map(str, e.path))}: {e.message}")
        failed += bool(errors)

    # The check must be able to fail: each mutation of a real document is rejected.
    def renamed(d, path, new):
        obj = d
        for key in path[:-1]:
            obj = obj[key]
        obj[new] = obj.pop(path[-1])

    def retyped(d, path, value):
        obj = d
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value

    full = docs[0]
    mutations = [
        ("schema_version renamed", lambda d: renamed(d, ["schema_version"], "version")),
        ("schema_version 2", lambda d: retyped(d, ["schema_version"], 2)),
        ("daemon.counters renamed", lambda d: renamed(d, ["daemon", "counters"], "counter")),
        ("connection state unknown", lambda d: retyped(d, ["connections", 0, "state"], "up")),
        ("connection nat renamed", lambda d: renamed(d, ["connections", 0, "nat"], "nat_flags")),
    ]
    rw = next((c for c in full["connections"] if c.get("peers")), None)
    if rw is None:
        print("the sample has no connection with peers")
        return 1
    k = full["connections"].index(rw)
    mutations += [
        ("peer health renamed", lambda d: renamed(d, ["connections", k, "peers", 0, "health"], "liveness")),
        ("dpd state unknown", lambda d: retyped(d, ["connections", k, "peers", 0, "health", "dpd", "state"], "dead")),
        ("bytes_in a string", lambda d: retyped(d, ["connections", k, "peers", 0, "health", "bytes_in"], "12")),
        ("ike spi not hex", lambda d: retyped(d, ["connections", k, "ike_sa", "spi_i"], "xyz")),
    ]
    # The last document has a mediated connection's path (issue 14).
    mediated = docs[-1]
    if mediated["connections"][0].get("path") != "relayed":
        print("the last sample has no mediated path")
        return 1
    mediated_mutations = [
        ("path unknown", lambda d: retyped(d, ["connections", 0, "path"], "hub")),
        ("path_reason a number", lambda d: retyped(d, ["connections", 0, "path_reason"], 3)),
    ]
    for name, mutate in mediated_mutations:
        d = copy.deepcopy(mediated)
        mutate(d)
        if validator.is_valid(d):
            print(f"mutation accepted by the schema: {name}")
            failed += 1
    for name, mutate in mutations:
        d = copy.deepcopy(full)
        mutate(d)
        if validator.is_valid(d):
            print(f"mutation accepted by the schema: {name}")
            failed += 1
    print(f"{len(docs)} documents checked, {len(mutations)} mutations tried, {failed} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
