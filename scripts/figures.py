"""Reads one scripts/figures run (its OUT directory) and prints the engine's
figures against their targets as a Markdown table.

usage: python3 scripts/figures.py OUT

Each figure lists every value that measures it (one per side-by-side round,
bench row, scripts/p99 cell or scripts/scale pair) and is met only when all
of them are. Exit status: 0 when every figure is met, 1 when one is not, 2
when OUT does not hold a whole run. A run without scripts/scale's table
(scale.md) lists that figure as not measured and is not whole.
"""

import sys
from pathlib import Path


def rows(text):
    """The cells of every Markdown table row in text, header rows included."""
    out = []
    for line in text.splitlines():
        if line.startswith("|") and "---" not in line:  # not a header's rule
            out.append([c.strip() for c in line.strip().strip("|").split("|")])
    return out


def num(s):
    return float(s.replace(",", "").rstrip("%"))


def sidebyside(text):
    """One dict a round: {(server, question): req/s}. A round ends at its B0 row."""
    rounds, cur = [], {}
    for r in rows(text):
        if r[0].startswith("server"):
            continue
        if r[0].startswith("B0"):
            cur[("B0", "")] = num(r[1])
            rounds.append(cur)
            cur = {}
            continue
        server, _, question = r[0].rpartition(" ")
        cur[(server, question)] = num(r[1])
    return rounds


def bench(text):
    """{scenario: {column: value}} of the bench's table."""
    table = rows(text)
    head = next(r for r in table if r[0] == "scenario")
    return {r[0]: dict(zip(head, r)) for r in table if r[0] != "scenario" and len(r) == len(head)}


def p99(text):
    """[(round, question, p99 ms)] of scripts/p99's table."""
    return [(r[0], r[1], num(r[5])) for r in rows(text) if r[0] != "round"]


def scale(text):
    """[(round, question, rate at 10,000 customers / rate at 500,000)] of scripts/scale's table."""
    rates = {(r[0], r[1], r[2]): num(r[3]) for r in rows(text) if r[0] != "round"}
    return [(rnd, q, rates[(rnd, q, "10000")] / rates[(rnd, q, "500000")])
            for rnd, q, n in rates if n == "10000"]


def main(out):
    out = Path(out)
    sbs = sidebyside((out / "sbs.md").read_text())
    b = bench((out / "bench.md").read_text())
    cells = p99((out / "p99.md").read_text())
    if not sbs or not b or not cells:
        raise ValueError("a table is empty")

    def peer(r, q):
        return max(r[("PostGraphile", q)], r[("PostGraphile5", q)])

    figures = []

    def figure(name, target, values, ok, unit):
        figures.append((name, target, [(k, f"{v:.2f}{unit}") for k, v in values], all(ok(v) for _, v in values)))

    figure("one customer vs the faster peer (SQLite)", ">= 2.5x",
           [(f"round {i + 1}", r[("Touchpoint/SQLite", "one")] / peer(r, "one")) for i, r in enumerate(sbs)],
           lambda v: v >= 2.5, "x")
    figure("dashboard vs the faster peer (SQLite)", ">= 2x",
           [(f"round {i + 1}", r[("Touchpoint/SQLite", "dash")] / peer(r, "dash")) for i, r in enumerate(sbs)],
           lambda v: v >= 2, "x")
    figure("PostgreSQL vs SQLite, one customer (times slower)", "<= 1.5x",
           [(f"round {i + 1}", r[("Touchpoint/SQLite", "one")] / r[("Touchpoint/PostgreSQL", "one")]) for i, r in enumerate(sbs)],
           lambda v: v <= 1.5, "x")
    dash = next(v for k, v in b.items() if k.startswith("GraphQL dashboard: 50 customers x newest 20 emails"))
    figure("dashboard server CPU a request, bench", "<= 1.4 ms",
           [("bench", num(dash["server CPU ms/req"]))], lambda v: v <= 1.4, " ms")
    v2 = b["REST v2, random customers"]
    figure("REST v2 over random customers vs B0 (bench)", ">= 20%",
           [("bench", num(v2["vs B0"]))], lambda v: v >= 20, "%")
    one = ["REST v1.1, one customer", "REST v2, random customers", "GraphQL one customer, few fields"]
    figure("p99 at 32 connections, bench", "< 10 ms",
           [(k, num(b[k]["p99 ms"])) for k in one], lambda v: v < 10, " ms")
    figure("p99 at 32 connections, scripts/p99", "< 10 ms",
           [(f"{q} round {r}", v) for r, q, v in cells], lambda v: v < 10, " ms")

    large = out / "scale.md"
    if large.exists():
        pairs = scale(large.read_text())
        if not pairs:
            raise ValueError("scale.md's table is empty")
        figure("one customer at 10 million messages vs 10,000 customers (times slower)", "<= 1.3x",
               [(f"{q} round {r}", v) for r, q, v in pairs], lambda v: v <= 1.3, "x")

    run = (out / "run.txt").read_text().split("\n")
    print(f"Figures of one run ({'; '.join(l for l in run if l)})\n")
    print("| figure | target | measured | met |")
    print("|---|---|---|---|")
    for name, target, values, met in figures:
        shown = "; ".join(v if len(values) == 1 else f"{k}: {v}" for k, v in values)
        print(f"| {name} | {target} | {shown} | {'yes' if met else '**no**'} |")
    b0 = ", ".join(f"{r[('B0', '')]:,.0f}" for r in sbs)
    print(f"\nB0 in the side-by-side rounds: {b0} req/s (the machine's speed during the run).")
    if not large.exists():
        print("Not in this run: one customer at 10 million messages within 1.3x (scripts/scale); the run is not whole.")
    if not all(f[3] for f in figures):
        return 1
    return 0 if large.exists() else 2


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        sys.exit(main(sys.argv[1]))
    except (OSError, KeyError, StopIteration, IndexError, ValueError) as e:
        print(f"figures: {sys.argv[1]} does not hold a whole run ({type(e).__name__} {e})", file=sys.stderr)
        sys.exit(2)
