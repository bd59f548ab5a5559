#!/usr/bin/env python3
"""clang-tidy over a build's compile_commands.json, with results cached per translation unit.

    tools/tidy_cached.py -p BUILD_DIR [-j N] [--checks CHECKS] [--cache DIR] [--root DIR] [PATH_REGEX]

Why: clang-tidy costs ~7 CPU-seconds a file and the tree has ~300 files, so the CI run spent
~30 minutes of its wall time on it although most files had not changed since the run before.
A translation unit's findings depend only on its own text, the text of every header it
includes, its compile command, the checks and the clang-tidy binary; this script hashes exactly
those (the header list comes from ninja's dependency log of the build that just ran, so it is
the real include set, not a guess) and reuses the stored output when nothing changed. Headers
outside the checkout (the system's) are keyed by path, size and mtime, which a package upgrade
changes. The cache lives in $NATGATE_TIDY_CACHE, else ~/.cache/natgate/clang-tidy.

A unit whose dependency set ninja does not know (not built yet) is always checked. Output is
stored with the checkout's path replaced, so another clone of the same tree hits the same
entries. Exit status: 1 when any clang-tidy run failed (an error under WarningsAsErrors), as
run-clang-tidy does; the combined output goes to stdout.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time

ROOT_MARK = "@NATGATE_ROOT@"
CACHE_FORMAT = "1"
CACHE_MAX_AGE_S = 30 * 24 * 3600  # entries unused for a month are pruned


def ninja_deps(build_dir):
    """Maps each object (path relative to the build dir) to the files it depends on."""
    out = subprocess.run(["ninja", "-C", build_dir, "-t", "deps"], check=True,
                         capture_output=True, text=True).stdout
    deps, current = {}, None
    for line in out.splitlines():
        if not line.strip():
            current = None
        elif not line.startswith(" "):
            # "<object>: #deps N, deps mtime M (VALID|STALE)"
            obj, _, state = line.partition(": #deps")
            current = obj if "(VALID)" in state else None
            if current is not None:
                deps[current] = []
        elif current is not None:
            deps[current].append(line.strip())
    return deps


def object_of(command):
    args = shlex.split(command)
    for i, arg in enumerate(args[:-1]):
        if arg == "-o":
            return args[i + 1]
    return None


class Hasher:
    """File digests, memoised: a header included by 200 units is read once."""

    def __init__(self, root):
        self.root = root
        self.memo = {}

    def file_digest(self, path):
        if path not in self.memo:
            if path.startswith(self.root + "/"):
                with open(path, "rb") as f:
                    self.memo[path] = hashlib.sha256(f.read()).hexdigest()
            else:
                st = os.stat(path)
                self.memo[path] = f"{st.st_size}:{st.st_mtime_ns}"
        return self.memo[path]


def unit_key(entry, deps, build_dir, root, hasher, fixed_part):
    h = hashlib.sha256(fixed_part)
    h.update(entry["command"].replace(root, ROOT_MARK).encode())
    for dep in deps:
        path = os.path.normpath(os.path.join(build_dir, dep))
        h.update(path.replace(root, ROOT_MARK).encode())
        h.update(hasher.file_digest(path).encode())
    return h.hexdigest()


def run_tidy(build_dir, checks, path):
    cmd = ["clang-tidy", "-p", build_dir, "--quiet"]
    if checks:
        cmd.append(f"-checks={checks}")
    cmd.append(path)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc.returncode, " ".join(cmd) + "\n" + proc.stdout + proc.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-p", dest="build_dir", required=True)
    parser.add_argument("-j", dest="jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--checks", default="")
    parser.add_argument("--cache", default=os.environ.get("NATGATE_TIDY_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "natgate", "clang-tidy"))
    parser.add_argument("--root", default=os.getcwd(), help="the checkout (default: here)")
    parser.add_argument("regex", nargs="?", default="")
    args = parser.parse_args()

    build_dir = os.path.abspath(args.build_dir)
    root = os.path.abspath(args.root)
    with open(os.path.join(build_dir, "compile_commands.json")) as f:
        entries = [e for e in json.load(f) if re.search(args.regex, e["file"])]
    deps = ninja_deps(build_dir)

    fixed = hashlib.sha256()
    fixed.update(CACHE_FORMAT.encode())
    fixed.update(subprocess.run(["clang-tidy", "--version"], capture_output=True).stdout)
    fixed.update(args.checks.encode())
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("build", ".git"))
        if ".clang-tidy" in filenames:
            config = os.path.join(dirpath, ".clang-tidy")
            fixed.update(config.replace(root, ROOT_MARK).encode())
            with open(config, "rb") as f:
                fixed.update(f.read())
    fixed_part = fixed.digest()

    os.makedirs(args.cache, exist_ok=True)
    hasher = Hasher(root)
    work, outputs, failed, hits = [], {}, 0, 0
    for entry in entries:
        obj = object_of(entry["command"])
        unit_deps = deps.get(obj) if obj else None
        key = unit_key(entry, unit_deps, build_dir, root, hasher, fixed_part) if unit_deps else None
        cached = os.path.join(args.cache, key) if key else None
        if cached and os.path.exists(cached):
            with open(cached) as f:
                record = json.load(f)
            os.utime(cached)
            outputs[entry["file"]] = record["output"].replace(ROOT_MARK, root)
            failed += record["status"] != 0
            hits += 1
        else:
            work.append((entry["file"], cached))

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(run_tidy, build_dir, args.checks, path): (path, cached)
                   for path, cached in work}
        for future in concurrent.futures.as_completed(futures):
            path, cached = futures[future]
            status, output = future.result()
            outputs[path] = output
            failed += status != 0
            if cached:
                tmp = cached + ".tmp"
                with open(tmp, "w") as f:
                    json.dump({"status": status, "output": output.replace(root, ROOT_MARK)}, f)
                os.replace(tmp, cached)

    now = time.time()
    for name in os.listdir(args.cache):
        path = os.path.join(args.cache, name)
        if now - os.path.getmtime(path) > CACHE_MAX_AGE_S:
            os.unlink(path)

    for path in sorted(outputs):
        sys.stdout.write(outputs[path])
    print(f"tidy_cached: {len(entries)} units, {hits} from the cache, {len(work)} checked in "
          f"{time.monotonic() - start:.0f} s, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
