"""Naming parser throughput, against a baseline measured in the same run on the same names.

Run: ``python -m tests.bench.bench_naming [--names 100000] [--repeat 5]``. Single-threaded, and pinned to
one CPU where the OS allows it. The baseline is the cheapest possible parser: one precompiled ``_v(\\d+)``
regex search. Variants: the default rules, and rules with 20 templates (the realistic worst case: most
names match none of them, so every template is tried). Each variant ends with one ``RESULT {json}`` line.

Rules per show (``scoped100``): a rules file with 100 ``[[scope]]`` sections (50 by project id, 50 by
folder glob), each file placed in one of 2,000 folders of 80 projects (a third of them covered by no
scope, so every scope is tried). Measured in the same run: parsing with the global rules, resolving
each file's scope alone (memoised per folder, as the workers see a folder again and again), resolving
every folder once with an empty memo (a worker's first sight of each folder), and resolve + parse.
The resolution must cost less than the parse.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import re
import time
from collections.abc import Callable
from typing import TypeVar

from workers.naming.parser import DEFAULT_RULES, Rules, parse
from workers.naming.rules import rulebook_from_toml
from workers.naming.scopes import RuleBook
from workers.naming.templates import Template

T = TypeVar("T")
LETTERS = "abcdefghij"  # scope i gets the version word take + two letters (words are letters only)
TITLES = ["harbor", "Kestrel SC07", "orbit_launch_60s", "Showreel 2025", "MRS_2C4_120", "recap-ep05", "Crème Brûlée"]
TASKS = ["grade", "comp", "anim", "lgt", "edit", "mix", "titles", "conform"]
FORMS = ["_v", "_V", "-v", " v", ".v", "_ver", " Rev ", "_revision-", "_r"]
AFTER = ["", "", "", "_final", " - approved", "_clean", "_1x1", "_2025-01-16", " (2)", "_wip_client"]
MOVIES = [".mov", ".mp4", ".mxf", ".MOV", ".wav"]
STILLS = [".exr", ".dpx", ".png"]
CAMERA = ["A004C010_20230610_R1JL.mov", "B003_C017_0914XK_001.R3D", "GH010457.MP4", "IMG_4821.MOV", "C0118.MP4"]
OTHER = ["Showreel_2025_Final.mp4", "Sequence 04_2.mp4", "._sc12_grade_v004.mov", "pov2_drone_pass.mov"]


def make_names(count: int, seed: int = 20250101) -> list[str]:
    """A deterministic mix: 70% versioned deliverables (some frames), 10% studio shot names that the
    templates below read, 10% camera originals, 10% other declines."""
    rng = random.Random(seed)
    names = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.1:
            names.append(rng.choice(CAMERA))
        elif roll < 0.2:
            names.append(rng.choice(OTHER))
        elif roll < 0.3:
            names.append(_studio(rng))
        else:
            names.append(_deliverable(rng))
    return names


def _deliverable(rng: random.Random) -> str:
    shot = f"sh{rng.randrange(10, 999) * 10:04d}"
    base = f"{rng.choice(TITLES)}_{shot}_{rng.choice(TASKS)}{rng.choice(FORMS)}{rng.randrange(1, 40):03d}"
    if rng.random() < 0.15:
        return f"{base}.{rng.randrange(1001, 1100)}{rng.choice(STILLS)}"
    return f"{base}{rng.choice(AFTER)}{rng.choice(MOVIES)}"


def _studio(rng: random.Random) -> str:
    show, seq, shot = rng.choice(["KDR", "qx", "mrs", "ep", "pk"]), rng.randrange(100, 300), rng.randrange(10, 999)
    return f"{show}_{seq}_{shot * 10:04d}_{rng.choice(['comp', 'lgt'])}_v{rng.randrange(1, 30):03d}.mov"


def twenty_templates() -> Rules:
    """20 studio-style templates; names of the mix above rarely match, so all of them are tried."""
    shows = ["kdr", "qx", "mrs", "ep", "pk"]
    templates = []
    for i, show in enumerate(shows):
        fields = (("show", show), ("shot", r"\d{3,4}"), ("task", "comp|lgt|fx|anim|roto"))
        templates += [
            Template(f"{show}-shot", "{show}_{seq}_{shot}_{task}_v{version}", fields),
            Template(f"{show}-plate", "{show}_{seq}_{shot}_plate_{_layer}_v{version}.{frame}", fields[:2]),
            Template(f"{show}-edit", "{show}_edit_{cut}_r{version}", (("show", show), ("cut", r"[a-z]+\d*"))),
            Template(f"{show}-{i}-deliv", "{show}_{title}_{ratio}_v{version}", (*fields[:1], ("ratio", r"\d+x\d+"))),
        ]
    return Rules(templates=tuple(templates))


def hundred_scopes() -> RuleBook:
    """50 scopes by project id, 50 by folder globs, each with its own words and a toggle."""
    sections = []
    for i in range(100):
        where = f'projects = ["proj-{i}"]' if i < 50 else f'folders = ["/Show{i}/**", "/*/Ep{i}/*"]'
        sections.append(
            f'[[scope]]\nname = "show {i}"\n{where}\nversion_words = ["take{LETTERS[i // 10]}{LETTERS[i % 10]}"]\n'
            f'annotation_words = ["ok{i}"]\n[scope.toggles]\ncopy_suffixes_are_duplicates = {str(i % 2 == 0).lower()}\n'
        )
    return rulebook_from_toml("\n".join(sections), "bench-scopes.toml")


Placed = tuple[str, str, str]  # (name, project id, folder path)


def place(names: list[str], seed: int = 7) -> list[Placed]:
    """Each name in one of 2,000 folders of 80 projects (projects 50-79 are in no project scope)."""
    rng = random.Random(seed)
    folders = [
        (f"proj-{rng.randrange(80)}", f"/Show{rng.randrange(40, 160)}/Ep{rng.randrange(40, 120)}/Day {d}")
        for d in range(2000)
    ]
    return [(name, *rng.choice(folders)) for name in names]


def scoped_variant(names: list[str], repeat: int, baseline: float) -> dict[str, object]:
    book = hundred_scopes()
    placed = place(names)
    global_rate = names_per_second(lambda item: parse(item[0], book.rules), placed, repeat)
    resolve_rate = names_per_second(lambda item: book.resolve(item[1], item[2]), placed, repeat)
    both_rate = names_per_second(lambda item: parse(item[0], book.resolve(item[1], item[2]).rules), placed, repeat)
    folders = sorted({(project, path) for _, project, path in placed})
    cold = float("inf")
    for _ in range(repeat):
        book._memo.clear()  # a worker's first sight of every folder
        start = time.perf_counter()
        for project, path in folders:
            book.resolve(project, path)
        cold = min(cold, (time.perf_counter() - start) / len(folders))
    scopes = sum(book.resolve(project, path).scope != "global" for _, project, path in placed)
    parse_cost, resolve_cost = 1 / global_rate, 1 / resolve_rate
    print(f"  {'global':<12}{'parse, 100-scope file':<28}{global_rate:>12,.0f} names/s")
    print(f"  {'resolve':<12}{'scope per file (memoised)':<28}{resolve_rate:>12,.0f} names/s")
    print(
        f"  {'scoped100':<12}{'resolve + parse':<28}{both_rate:>12,.0f} names/s  {both_rate / global_rate:.3f}x global"
    )
    print(f"  {'cold':<12}{'resolve, first sight':<28}{cold * 1e6:>12,.1f} us/folder ({len(folders)} folders)")
    return {
        "bench": "naming",
        "variant": "scoped100",
        "scopes": len(book.scopes),
        "folders": len(folders),
        "names_in_a_scope": scopes,
        "names": len(names),
        "names_per_s": round(both_rate),
        "global_names_per_s": round(global_rate),
        "resolve_per_s": round(resolve_rate),
        "resolve_cost_vs_parse": round(resolve_cost / parse_cost, 4),
        "cold_resolve_us_per_folder": round(cold * 1e6, 2),
        "cold_resolve_cost_vs_parse": round(cold / parse_cost, 2),
        "baseline_names_per_s": round(baseline),
        "scoped_vs_global": round(both_rate / global_rate, 4),
    }


def names_per_second(fn: Callable[[T], object], names: list[T], repeat: int) -> float:
    """Best of ``repeat`` passes over all names (the least disturbed run)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for name in names:
            fn(name)
        best = min(best, time.perf_counter() - start)
    return len(names) / best


def pin_to_one_cpu() -> str:
    if hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--names", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    names = make_names(args.names)
    print(f"naming bench: {len(names)} names, best of {args.repeat}, single thread, {pin_to_one_cpu()}")
    baseline_regex = re.compile(r"_v(\d+)")
    baseline = names_per_second(baseline_regex.search, names, args.repeat)
    what = "one " + baseline_regex.pattern + " search"
    print(f"  {'baseline':<12}{what:<28}{baseline:>12,.0f} names/s")
    variants = {"default": DEFAULT_RULES, "templates20": twenty_templates()}
    for label, rules in variants.items():
        parse(names[0], rules)  # compile outside the timing
        rate = names_per_second(functools.partial(parse, rules=rules), names, args.repeat)
        ratio = rate / baseline
        backfill = 100_000 / rate
        hits = sum(1 for name in names if parse(name, rules).rule.startswith("template:"))
        what = f"parse ({len(rules.templates)} templates)"
        print(f"  {label:<12}{what:<28}{rate:>12,.0f} names/s  {ratio:.4f}x baseline  100k in {backfill:.2f}s")
        result = {
            "bench": "naming",
            "variant": label,
            "templates": len(rules.templates),
            "template_hits": hits,
            "names": len(names),
            "names_per_s": round(rate),
            "baseline_names_per_s": round(baseline),
            "ratio_to_baseline": round(ratio, 4),
            "slowdown_vs_baseline": round(1 / ratio, 2),
            "seconds_per_100k": round(backfill, 3),
        }
        print("RESULT " + json.dumps(result))
    print("RESULT " + json.dumps(scoped_variant(names, args.repeat, baseline)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
