"""Benchmarks: every speed and memory target of the compendium, measured, against its target.

Run with ``make bench`` (``make bench BENCH=--quick`` skips the set-up from empty
caches and ``make test``). Each line is a figure, its target and ``ok`` or
``MISSED``; the same lines go to ``benchmarks/results.md`` with the machine they
came from. Nothing here is a test: a missed target is reported, not hidden, and
the exit status is 0 unless a measurement could not be made.

Wall time is ``time.perf_counter`` around the command; peak memory is the
largest total resident memory of the command's process tree, sampled every
0.25 s with psutil (so a short spike between samples can be missed).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RESULTS = ROOT / "benchmarks" / "results.md"
README = ROOT / "README.md"
#: The README's copy of the last results sits between these two lines (the bench rewrites it).
BEGIN, END = "<!-- benchmarks/results.md: begin -->", "<!-- benchmarks/results.md: end -->"
SEED = 12345
lines: list[str] = []


def report(name: str, value: str, target: str, ok: bool | None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    line = f"| {name} | {value} | {target} | {verdict} |"
    lines.append(line)
    print(line, flush=True)


def with_results(readme: str, results: str) -> str:
    """Return the README text with its copy of ``results.md`` replaced by ``results``.

    The copy is everything below the results' title, between :data:`BEGIN` and
    :data:`END`, so the README states the figures and the machine of the last run
    and cannot drift from ``results.md`` (a test compares the two).

    Examples
    --------
    >>> new = with_results(f"intro\\n{BEGIN}\\nold\\n{END}\\nrest", "# Title\\n\\nnew\\n")
    >>> new.splitlines()[1:]
    ['<!-- benchmarks/results.md: begin -->', 'new', '<!-- benchmarks/results.md: end -->', 'rest']
    """
    head, begin, rest = readme.partition(BEGIN + "\n")
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"README.md has no block between {BEGIN!r} and {END!r}")
    body = results.split("\n", 1)[1].strip("\n") + "\n"
    return head + begin + body + end + tail


def measure(command: Sequence[str], *, env: dict[str, str] | None = None,
            cwd: Path = ROOT) -> tuple[float, float, subprocess.CompletedProcess]:  # fmt: skip
    """Run a command; return wall seconds, peak MiB of its process tree, and its result."""
    peak = 0.0
    done = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=cwd, env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip

    def sample() -> None:
        nonlocal peak
        parent = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [parent, *parent.children(recursive=True)]
                total = 0
                for p in tree:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
                peak = max(peak, total / 2**20)
            except psutil.Error:
                pass
            # every 0.25 s: each look walks /proc, and more often it took a tenth of a core
            # from the two the measured command has
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    return elapsed, peak, subprocess.CompletedProcess(command, proc.returncode, out, "")


def _require(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        print(result.stdout[-3000:], file=sys.stderr)
        raise SystemExit(f"bench: {what} failed (exit {result.returncode})")


def bench_setup() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"UV_CACHE_DIR": f"{tmp}/uv-cache", "PIP_NO_CACHE_DIR": "1"}
        seconds, mib, result = measure(
            [PYTHON, "tools/bootstrap.py", "--venv", f"{tmp}/venv"], env=env
        )
        _require(result, "set-up")
    report("set-up of .venv from empty caches (uv)", f"{seconds:.1f} s, {mib:.0f} MiB",
           "≤ 25 s", seconds <= 25)  # fmt: skip


def floor_parameters(tables: Path) -> dict[str, dict[str, object]]:
    """The values the runner injects into each notebook for the default set.

    Figures and tables go to ``tables``, as the runner sends them to its report's.
    """
    from helpers.run import (
        SET_PARAMETER,
        TABLES_DIR,
        TABLES_PARAMETER,
        discover_notebooks,
        load_parameter_set,
        resolve_parameters,
        with_tables_in,
    )

    injected = {SET_PARAMETER: "default", TABLES_PARAMETER: TABLES_DIR}
    resolved = resolve_parameters(load_parameter_set("default"), discover_notebooks(), injected)
    return {nb.stem: with_tables_in(values, tables) for nb, values in resolved.items()}


#: Rounds of the floors and the cold run, taken in turn (one paired run, as the targets were
#: first measured): the machines' speed drifts within minutes, so each figure is the median
#: of its rounds, with their range.
ROUNDS = 3


def _floor_and_cold_round() -> dict[str, float]:
    """One round: L, L0, then the cold runner and the site; seconds and MiB of each."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "parameters.json"
        plan.write_text(json.dumps(floor_parameters(Path(tmp) / "tables")), encoding="utf-8")
        out["L"], out["L MiB"], result = measure([PYTHON, "benchmarks/floor.py", str(plan)])
    _require(result, "the in-process floor")
    out["L0"], out["L0 MiB"], result = measure([PYTHON, "benchmarks/floor.py"])
    _require(result, "the in-process floor without the runner's values")
    with tempfile.TemporaryDirectory() as tmp:
        # make reproduce's command: the notebooks, then the site in the same process
        out["cold"], out["cold MiB"], result = measure(
            [PYTHON, "-m", "helpers.run", "--reports", tmp, "--no-progress", "--force", "--site"]
        )
        _require(result, "the runner and the site")
    out["site"] = site_seconds(result.stdout)
    out["run"] = out["cold"] - out["site"]
    return out


def site_seconds(output: str) -> float:
    """The site's build time, as ``helpers.site`` says it on its last line.

    >>> site_seconds("report written to r\\nsite written to r/site/index.html in 4.2 s\\n")
    4.2
    """
    line = output.strip().splitlines()[-1]
    if not (line.startswith("site written to ") and line.endswith(" s")):
        raise SystemExit(f"the site's time is not on the last line: {line!r}")
    return float(line.rsplit(" in ", 1)[1][:-2])


def median_and_range(values: Sequence[float], digits: int = 1, unit: str = " s") -> str:
    """``values``' median and, if there is more than one, their range.

    >>> median_and_range([2.04, 1.5, 3.0], 2, " ×")
    '2.04 × (1.50–3.00 ×)'
    """
    mid = f"{statistics.median(values):.{digits}f}{unit}"
    if len(values) < 2:
        return mid
    return f"{mid} ({min(values):.{digits}f}–{max(values):.{digits}f}{unit})"


def bench_floor_and_cold() -> None:
    rounds = [_floor_and_cold_round() for _ in range(ROUNDS)]

    def values(key: str) -> list[float]:
        return [r[key] for r in rounds]

    def med(key: str) -> float:
        return statistics.median(values(key))

    def peak(*keys: str) -> str:  # the largest of the rounds' peaks
        return f"peak {max(r[k] for r in rounds for k in keys):.0f} MiB"

    def ratios(part: str, over: str) -> list[float]:  # per round: side by side
        return [r[part] / r[over] for r in rounds]

    print(f"    (each figure the median of {ROUNDS} rounds taken in turn, with their range;"
          " each peak memory the largest of the rounds')")  # fmt: skip
    report("in-process floor L (every code cell with the runner's values, one process)",
           f"{median_and_range(values('L'))}, {peak('L MiB')}", "reference",
           None)  # fmt: skip
    report("floor L0 with the notebooks' own defaults (writes no figure or table file)",
           f"{median_and_range(values('L0'))}, {peak('L0 MiB')}", "(reference)",
           None)  # fmt: skip
    by_l, by_l0 = ratios("cold", "L"), ratios("cold", "L0")
    ok_l, ok_l0 = statistics.median(by_l) <= 1.5, statistics.median(by_l0) <= 1.5
    report("cold make reproduce (notebooks + site, no cache)",
           f"{median_and_range(values('cold'))}; medians of the parts: notebooks "
           f"{med('run'):.1f} s, site {med('site'):.1f} s; {peak('cold MiB')}",
           "≤ 1.5 × L", ok_l)  # fmt: skip
    report("cold make reproduce / L, round by round", median_and_range(by_l, 2, " ×"),
           "≤ 1.5 ×", ok_l)  # fmt: skip
    report("cold make reproduce / L0 (the first floor, which writes no file), round by round",
           median_and_range(by_l0, 2, " ×"), "≤ 1.5 × (as first set)", ok_l0)  # fmt: skip
    report("notebooks only / L", median_and_range(ratios("run", "L"), 2, " ×"),
           "(the site is not in L)", None)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        cold_s, cold_mib, result = measure(
            [PYTHON, "-m", "helpers.run", "--reports", tmp, "--no-progress", "--force",
             "--cold-kernels"]
        )  # fmt: skip
        _require(result, "the runner with cold kernels")
    report("notebooks with --cold-kernels (each kernel a new process), one run",
           f"{cold_s:.1f} s, {cold_mib:.0f} MiB = {cold_s / med('L'):.2f} × L; warm kernels save "
           f"{cold_s - med('run'):.1f} s", "(reference)", None)  # fmt: skip


def bench_noop() -> None:
    _, _, result = measure(["make", "-s", "reproduce"])  # bring the default report up to date
    _require(result, "make reproduce")
    seconds, mib, result = measure(["make", "-s", "reproduce"])
    _require(result, "make reproduce (no-op)")
    said = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    report("no-op make reproduce", f"{seconds:.2f} s, {mib:.0f} MiB", "≤ 0.5 s", seconds <= 0.5)
    print(f"    ({said})")


def bench_make(target: str, limit: float) -> None:
    seconds, mib, result = measure(["make", "-s", target])
    _require(result, f"make {target}")
    summary = [ln for ln in result.stdout.splitlines() if " passed" in ln]
    report(f"make {target}", f"{seconds:.0f} s, {mib:.0f} MiB", f"≤ {limit:g} s", seconds <= limit)
    if summary:
        print(f"    ({summary[-1].strip('= ')})")


def _stage(name: str, n: int, queue: multiprocessing.Queue) -> None:
    """One analysis of notebooks 02 and 03 on a simulated cohort of n patients (a process)."""
    import resource

    from helpers import outcomes as ho
    from helpers import safety as hs
    from helpers.data import as_factors
    from helpers.simulate import simulate_cohort
    from helpers.study import load_study

    study = load_study(ROOT / "data" / "study.yaml")
    # categorical ids, as load_cohort gives the notebooks
    m = as_factors(simulate_cohort(n, study=study, seed=SEED).measurements)
    efficacy = study.analysis_plan(role="efficacy")[0]
    safety = study.analysis_plan(role="safety")[0]
    visits = list(study.visit_months)
    stages: dict[str, Callable[[], object]] = {
        "summaries": lambda: ho.summary_table(
            m, outcomes=efficacy + safety, visits=visits, study=study
        ),
        "paired tests + bootstrap CIs": lambda: ho.compare_to_baseline(
            m, outcomes=efficacy + safety, visits=visits, seed=SEED
        ),
        "omnibus tests": lambda: ho.omnibus_tests(m, outcomes=efficacy + safety, visits=visits),
        "mixed model": lambda: ho.mixed_model(m, outcomes=efficacy + safety, visits=visits),
        "safety (TOST)": lambda: hs.safety_analysis(
            m, outcomes=safety, visits=visits, margins=dict.fromkeys(safety, 5.0)
        ),
        "detectable rise": lambda: hs.detectable_rise(m, outcomes=safety, visits=visits),
        "per-patient changes": lambda: hs.patient_changes(
            m,
            outcomes=safety,
            visits=visits,
            baseline=study.baseline,
            cutoffs=dict.fromkeys(safety, 10.0),
            meaningful_rise=dict.fromkeys(safety, "50%"),
        ),
    }
    # wall time untraced (tracemalloc slows allocation-heavy code about twofold); memory as
    # the peak resident size of this process: the stack, the cohort and the analysis
    start = time.perf_counter()
    stages[name]()
    seconds = time.perf_counter() - start
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


STAGES = (
    "summaries", "paired tests + bootstrap CIs", "omnibus tests", "mixed model",
    "safety (TOST)", "detectable rise", "per-patient changes",
)  # fmt: skip


def bench_scale(n: int, budget: float) -> None:
    total, worst, complete = 0.0, 0.0, True
    ctx = multiprocessing.get_context("spawn")
    for name in STAGES:
        queue = ctx.Queue()
        proc = ctx.Process(target=_stage, args=(name, n, queue))
        proc.start()
        proc.join(timeout=budget)
        if proc.is_alive():
            proc.terminate()
            proc.join()
            report(f"scale, {n:,} patients: {name}", f"not finished in {budget:.0f} s", "", False)
            complete = False
            continue
        seconds, mib = queue.get()
        total += seconds
        worst = max(worst, mib)
        report(f"scale, {n:,} patients: {name}", f"{seconds:.1f} s, {mib:.0f} MiB", "", None)
    value = f"{total:.1f} s, peak {worst:.0f} MiB" + ("" if complete else " (stages unfinished)")
    report(f"scale, {n:,} patients × 4 visits × 5 outcomes, analyses of 02 and 03", value,
           "≤ 10 s, ≤ 2 GiB", complete and total <= 10 and worst <= 2048)  # fmt: skip


SCALE_NOTEBOOKS = ("02_glycemic_outcomes", "03_immunologic_safety")


def bench_scale_notebooks(n: int, budget: float) -> None:
    """Notebooks 02 and 03 through the runner on a simulated cohort of n patients, as files."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "cohort"
        write = (
            "import sys; from helpers.simulate import simulate_cohort, write_cohort; "
            "from helpers.study import load_study; "
            "write_cohort(simulate_cohort(int(sys.argv[1]), study=load_study('data/study.yaml'), "
            f"seed={SEED}), sys.argv[2])"
        )
        _require(measure([PYTHON, "-c", write, str(n), str(data)])[2], "writing the cohort")
        command = [PYTHON, "-m", "helpers.run", "--reports", f"{tmp}/reports", "--no-progress",
                   "--force", "--timeout", f"{budget:g}", "-p", f"data_dir={data}"]  # fmt: skip
        for name in SCALE_NOTEBOOKS:
            command += ["--notebook", name]
        seconds, mib, result = measure(command)
        _require(result, f"notebooks 02 and 03 on {n:,} patients")
    each = ", ".join(
        ln.split("_", 1)[0] + ": " + ln.split(" done in ")[1]
        for ln in result.stdout.splitlines()
        if ".ipynb done in " in ln
    )
    report(f"scale, {n:,} patients: notebooks 02 and 03 through the runner (read and check "
           "the files, every analysis, figures, tables, HTML)",
           f"{seconds:.1f} s ({each}), peak {mib:.0f} MiB", "≤ 10 s, ≤ 2 GiB",
           seconds <= 10 and mib <= 2048)  # fmt: skip


def bench_trials() -> None:
    from helpers.design import simulate_power, simulate_power_loop

    kw = {"design": "two_arm", "n": 20, "effect": 0.8, "sd": 1.0, "r": 0.5}
    start = time.perf_counter()
    simulate_power(n_sims=20_000, seed=SEED, **kw)
    vector = 20_000 / (time.perf_counter() - start)
    start = time.perf_counter()
    simulate_power_loop(n_sims=200, seed=SEED, **kw)
    loop = 200 / (time.perf_counter() - start)
    report("simulated two-arm ANCOVA trials per second: NumPy batches vs pingouin loop",
           f"{vector:,.0f} vs {loop:,.0f} /s = {vector / loop:,.0f} ×", "≥ 200 ×",
           vector / loop >= 200)  # fmt: skip


def _cpu_model() -> str:
    """The CPU's model name (Linux), which the figures depend on: the machines differ."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "CPU model unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip set-up and make test")
    parser.add_argument("--scale", type=int, default=100_000, help="patients in the scale run")
    parser.add_argument("--budget", type=float, default=60, help="seconds per scale stage")
    args = parser.parse_args(argv)
    print("| measurement | figure | target | |\n|---|---|---|---|")
    if not args.quick:
        bench_setup()
    bench_floor_and_cold()
    bench_noop()
    bench_make("check", 30)
    if not args.quick:
        bench_make("test", 90)
    bench_trials()
    bench_scale(args.scale, args.budget)
    bench_scale_notebooks(args.scale, 10 * args.budget)
    machine = (
        f"{platform.node() and 'this machine'}: {os.cpu_count()} CPUs ({_cpu_model()}), "
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )
    RESULTS.write_text(
        f"# Benchmark results\n\nMeasured {dt.date.today().isoformat()} by `make bench"
        f"{' BENCH=--quick' if args.quick else ''}` on {machine}.\n\n"
        "| measurement | figure | target | |\n|---|---|---|---|\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    README.write_text(
        with_results(README.read_text(encoding="utf-8"), RESULTS.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    print(f"written to {RESULTS.relative_to(ROOT)} and copied into {README.name}")
    shutil.rmtree(ROOT / "benchmarks" / "__pycache__", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
