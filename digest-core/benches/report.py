#!/usr/bin/env python3
"""Ratio tables from criterion's results of the comparison benchmarks (benches/client.rs,
benches/server.rs), as in BENCHMARKS.md.

    cargo bench -p httpdigest --bench client --bench server
    python3 digest-core/benches/report.py [target/criterion]

For each operation and algorithm: every contender's median time, its ratio to the floor (the
bare hash computations) and httpdigest's ratio to each other crate (how many times faster).
"""
import json
import pathlib
import sys

OPERATIONS = ["parse", "respond", "first_response", "verify"]
CONTENDERS = ["httpdigest", "digest_auth", "http-auth", "floor"]
ALGORITHMS = ["MD5", "SHA-256", "SHA-512-256"]


def median_ns(root, operation, contender, algorithm):
    path = root / operation / contender / algorithm / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def time(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
    if not root.is_dir():
        sys.exit(f"{root}: no criterion results; run the benchmarks first")
    for operation in OPERATIONS:
        rows = []
        for algorithm in ALGORITHMS:
            times = {c: median_ns(root, operation, c, algorithm) for c in CONTENDERS}
            if times["httpdigest"] is None:
                continue
            ours, floor = times["httpdigest"], times["floor"]
            cells = [time(t) if t is not None else "—" for t in times.values()]
            ratio_floor = f"{ours / floor:.2f}×" if floor else "—"
            faster = [
                f"{times[c] / ours:.1f}×" if times[c] is not None else "—"
                for c in ("digest_auth", "http-auth")
            ]
            rows.append([algorithm, *cells, ratio_floor, *faster])
        if not rows:
            continue
        print(f"\n**{operation}** (median)\n")
        print("| algorithm | httpdigest | digest_auth | http-auth | floor "
              "| httpdigest ÷ floor | digest_auth ÷ httpdigest | http-auth ÷ httpdigest |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
