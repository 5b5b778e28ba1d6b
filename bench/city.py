"""City benchmark: every shipped scenario under every policy, against the pooled limit.

For each scenario in server/data/scenarios/ and each policy of `motcua simulate`, runs the day
over seeds 1..N and prints the figures averaged over seeds; then the pooled limit
(bench/ciw_reference.py: each group of nearby branches as one queue of all-purpose counters, no
travel) on the same seeds, and how much of the gap between no policy and that limit each policy
closes. Draws each scenario's mean wait through the day into bench/out/ (git-ignored). Then the
channels' table: `balance+realloc` today and with the shares of citizens who book an appointment
and take a remote ticket (`motcua simulate --appointment-share --remote-share`), overall and per
channel, each figure the mean over seeds ± its standard error.

    python bench/city.py [--seeds 20] [--scenario hoan-kiem | --scenario city.json] [--appointment-share 0.3] [--remote-share 0.2]
                         [--appointment-shift-min 1440] [--channels-only]
"""
from __future__ import annotations

import argparse
import functools
import multiprocessing
import shlex
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server
import matplotlib.pyplot as plt  # noqa: E402

from motcua.core import scenario  # noqa: E402
from motcua.core.model import CHANNELS  # noqa: E402
from motcua.core import simulator  # noqa: E402
from motcua.core.simulator import POLICIES, CityDay, generate_citizens, range_held_pct  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # ciw_reference sits next to this file
from ciw_reference import figures, pooled_day_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "server" / "data" / "scenarios"
OUT = ROOT / "bench" / "out"
POOLED = "pooled limit"
BIN_MIN = 30.0
PROCESSES = 2  # the machine has two cores; days are independent, so this halves the wall time
COLUMNS = (("within_target_pct", "within %"), ("mean_wait_min", "mean wait"), ("p90_wait_min", "p90 wait"),
           ("prediction_mae_min", "pred MAE"), ("baseline_mae_min", "base MAE"), ("mae_ratio", "MAE/base"),
           ("range_held_pct", "80% range held"), ("redirected_pct", "redirected %"))


# ---- one day (runs in a worker process) ------------------------------------------------------

FILES: dict[str, Path] = {}   # a scenario given as a file (--scenario city.json), by name; set before the pools fork


@functools.lru_cache(maxsize=None)
def load(name: str) -> dict:
    return scenario.load(FILES.get(name, SCENARIOS / f"{name}.json"))


def run_day(job: tuple[str, str, int]) -> dict | None:
    """One scenario day under one policy (or the pooled limit); None if the policy is unavailable."""
    name, policy, seed = job
    data = load(name)
    if policy == POOLED:
        day = pooled_day_of(data, generate_citizens(data, seed))
        return {**figures([w for _, w in day], data.get("target_wait_min", 15)), "bins": by_arrival_bin(day)}
    try:
        city = CityDay(data, policy, seed).run()
    except ImportError:  # the realloc policies need server/core/staffing.py, which may not have landed
        return None
    summary = city.summary()
    keys = ("within_target_pct", "mean_wait_min", "p90_wait_min", "prediction_mae_min", "baseline_mae_min")
    return {**{k: summary[k] for k in keys},
            "redirected_pct": 100 * summary["redirected"] / max(summary["citizens"], 1),
            "range_held_pct": range_held_pct(city.citizens),
            "bins": by_arrival_bin([(c.arrived_min, c.wait_min) for c in city.citizens if c.wait_min is not None])}


def run_channels(job: tuple[str, float, float, int]) -> dict:
    """One scenario day under balance+realloc with the given shares: the summary and its channels."""
    name, appointment_share, remote_share, seed = job
    city = CityDay(load(name), "balance+realloc", seed, remote_share=remote_share,
                   appointment_share=appointment_share).run()
    summary = city.summary()
    return {"all": {**summary, "range_held_pct": range_held_pct(city.citizens)}, **summary["by_channel"],
            "redirected": summary["redirected_figures"]}


def by_arrival_bin(day: list[tuple[float, float]]) -> dict[int, tuple[float, int]]:
    """(sum of waits, citizens) per 30-minute bin of arrival time."""
    bins: dict[int, list] = defaultdict(lambda: [0.0, 0])
    for arrived, wait in day:
        cell = bins[int(arrived // BIN_MIN)]
        cell[0] += wait
        cell[1] += 1
    return {index: tuple(cell) for index, cell in bins.items()}


# ---- over seeds ------------------------------------------------------------------------------

def average(days: list[dict]) -> dict:
    """Figures averaged over seeds; the MAE ratio is that of the averaged MAEs."""
    row = {key: statistics.fmean(d[key] for d in days) for key in days[0] if key != "bins"}
    if "baseline_mae_min" in row:
        row["mae_ratio"] = row["prediction_mae_min"] / row["baseline_mae_min"] if row["baseline_mae_min"] else None
    row["curve"] = mean_wait_curve([d["bins"] for d in days])
    return row


def mean_wait_curve(days: list[dict[int, tuple[float, int]]]) -> dict[int, float]:
    """Per bin, the mean wait of its arrivals averaged over the seeds that had any."""
    means = defaultdict(list)
    for bins in days:
        for index, (total, count) in bins.items():
            means[index].append(total / count)
    return {index: statistics.fmean(values) for index, values in sorted(means.items())}


def collect(jobs: list[tuple[str, str, int]], results: list) -> dict[tuple[str, str], dict | None]:
    grouped = defaultdict(list)
    for (name, policy, _), result in zip(jobs, results):
        grouped[(name, policy)].append(result)
    return {key: None if any(r is None for r in days) else average(days) for key, days in grouped.items()}


# ---- output ----------------------------------------------------------------------------------

def print_table(names: list[str], rows: dict) -> None:
    header = f"{'scenario':<14} {'policy':<16}" + "".join(f" {title:>12}" for _, title in COLUMNS)
    print(header)
    print("-" * len(header))
    for name in names:
        for policy in (*POLICIES, POOLED):
            row = rows[(name, policy)]
            cells = ["n/a"] * len(COLUMNS) if row is None else [_cell(row.get(key)) for key, _ in COLUMNS]
            print(f"{name:<14} {policy:<16}" + "".join(f" {cell:>12}" for cell in cells))


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_gap_closed(names: list[str], rows: dict) -> None:
    """(policy within% − none within%) / (pooled within% − none within%): 100 = as good as pooling."""
    print("\ngap closed, % of the way from `none` to the pooled limit (within-target share)")
    print(f"{'scenario':<14}" + "".join(f" {p:>16}" for p in POLICIES[1:]))
    for name in names:
        none, pooled = rows[(name, "none")], rows[(name, POOLED)]
        cells = [_gap(none, rows[(name, p)], pooled) for p in POLICIES[1:]]
        print(f"{name:<14}" + "".join(f" {cell:>16}" for cell in cells))


def _gap(none: dict | None, policy: dict | None, pooled: dict) -> str:
    if none is None or policy is None:
        return "n/a"
    room = pooled["within_target_pct"] - none["within_target_pct"]
    if abs(room) < 0.05:  # nothing to gain: the ratio would be noise over noise
        return "n/a (no gap)"
    return f"{100 * (policy['within_target_pct'] - none['within_target_pct']) / room:.0f}"


def plot(name: str, rows: dict, seeds: int, target_min: float) -> Path:
    figure, axes = plt.subplots(figsize=(9, 5))
    drawn: dict[str, dict] = {}
    for policy in (*POLICIES, POOLED):
        row = rows[(name, policy)]
        if row is None:
            continue
        hours = [(index + 0.5) * BIN_MIN / 60 for index in row["curve"]]
        style = {"color": "black", "linestyle": "--"} if policy == POOLED else {"marker": "o", "markersize": 3}
        # A policy with nothing to act on (balance with one branch) draws exactly over another: say so.
        twin = next((other for other, curve in drawn.items() if curve == row["curve"]), None)
        label = f"{policy} (same curve as {twin})" if twin else policy
        axes.plot(hours, list(row["curve"].values()), label=label, **style)
        drawn[policy] = row["curve"]
    axes.axhline(target_min, color="grey", linestyle=":", label=f"target {target_min:g} min")
    axes.set(title=f"{name}: mean wait by arrival time ({seeds} seeds)", xlabel="arrival, hours from open",
             ylabel="mean wait of arrivals in the 30-min bin (min)")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend()
    path = OUT / f"city-{name}.png"
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def print_channels(names: list[str], days: dict, shares: tuple[float, float]) -> None:
    """Within-target share and mean wait, mean ± standard error over seeds, overall and per channel."""
    print(f"\nbalance+realloc, today and with --appointment-share {shares[0]:g} --remote-share {shares[1]:g}, "
          f"bookers taking a slot within {simulator.APPOINTMENT_SHIFT_MIN:g} min of the one they want "
          f"(mean ± standard error over seeds; waits of holders from their check-in)")
    header = (f"{'scenario':<14} {'shares':<8} {'channel':<12} {'citizens':>9} {'within 15 %':>14} {'mean wait':>12}"
              f" {'80% range held':>15}")
    print(header)
    print("-" * len(header))
    for name in names:
        for label, key in (("none", (name, 0.0, 0.0)), ("shares", (name, *shares))):
            for channel in ("all", *CHANNELS, "redirected"):   # redirected: called at another branch than their own
                rows = [day[channel] for day in days[key] if day[channel]["citizens"]]
                if not rows:
                    continue
                print(f"{name:<14} {label:<8} {channel:<12} {_mean_se(rows, 'citizens', 0):>9} "
                      f"{_mean_se(rows, 'within_target_pct'):>14} {_mean_se(rows, 'mean_wait_min'):>12}"
                      f" {_mean_se(rows, 'range_held_pct'):>15}")


def _mean_se(rows: list[dict], key: str, digits: int = 1) -> str:
    values = [row[key] for row in rows]
    mean = statistics.fmean(values)
    if len(values) < 2 or not digits:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values) / len(values) ** 0.5:.{digits}f}"


# ---- main ------------------------------------------------------------------------------------

def arguments(argv: list[str] | None) -> argparse.Namespace:
    shipped = sorted(p.stem for p in SCENARIOS.glob("*.json"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="days per row: seeds 1..N (default 20)")
    parser.add_argument("--scenario", help="only this scenario: a shipped one's name (" + ", ".join(shipped) +
                        ") or a scenario file, a city the project does not ship")
    parser.add_argument("--appointment-share", type=float, default=0.3, help="for the channels' table (0.3)")
    parser.add_argument("--remote-share", type=float, default=0.2, help="for the channels' table (0.2)")
    parser.add_argument("--appointment-shift-min", type=float, default=simulator.APPOINTMENT_SHIFT_MIN,
                        help="how far from the slot they want booking citizens take another (the model's "
                             "APPOINTMENT_SHIFT_MIN), to see how much the figures owe it")
    parser.add_argument("--channels-only", action="store_true", help="only the channels' table")
    args = parser.parse_args(argv)
    args.names = [args.scenario] if args.scenario else shipped
    if args.scenario and args.scenario not in shipped:
        path = Path(args.scenario)
        if not path.is_file():
            parser.error(f"--scenario: {args.scenario!r} is neither a shipped scenario nor a file")
        FILES[path.stem] = path
        args.names = [path.stem]
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    print("$ " + shlex.join(sys.orig_argv))
    started = time.monotonic()
    shares = (args.appointment_share, args.remote_share)
    simulator.APPOINTMENT_SHIFT_MIN = args.appointment_shift_min   # before the pool: its workers are forked
    channel_jobs = [(name, *key, seed) for name in args.names for key in ((0.0, 0.0), shares)
                    for seed in range(1, args.seeds + 1)]
    with multiprocessing.Pool(PROCESSES) as pool:
        channel_days = pool.map(run_channels, channel_jobs)
    grouped = defaultdict(list)
    for job, day in zip(channel_jobs, channel_days):
        grouped[job[:3]].append(day)
    if args.channels_only:
        print_channels(args.names, grouped, shares)
        print(f"({time.monotonic() - started:.1f} s)")
        return
    jobs = [(name, policy, seed) for name in args.names for policy in (*POLICIES, POOLED)
            for seed in range(1, args.seeds + 1)]
    with multiprocessing.Pool(PROCESSES) as pool:
        results = pool.map(run_day, jobs, chunksize=max(1, len(jobs) // (8 * PROCESSES)))
    rows = collect(jobs, results)
    print(f"{args.seeds} seeds (1..{args.seeds}) per row, figures averaged over seeds; "
          f"pooled limit = nearby branches as one queue, ciw\n")
    print_table(args.names, rows)
    print_gap_closed(args.names, rows)
    OUT.mkdir(parents=True, exist_ok=True)
    print()
    for name in args.names:
        print("wrote", plot(name, rows, args.seeds, load(name).get("target_wait_min", 15)).relative_to(ROOT))
    print_channels(args.names, grouped, shares)
    print(f"({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
