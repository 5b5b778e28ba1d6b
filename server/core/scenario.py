"""City-day scenarios (format motcua-scenario/1): branches, services, counters, arrivals."""
from __future__ import annotations

import json
import re
import string
from pathlib import Path

from .clock import hhmm_minutes
from .model import Branch, Counter, Invalid, Service

FORMAT = "motcua-scenario/1"
BUNDLED = Path(__file__).resolve().parent.parent / "data" / "scenarios"


def bundled(name: str) -> Path:
    """A scenario shipped with the project, by name (hoan-kiem, ha-noi, single-branch)."""
    return BUNDLED / f"{name}.json"


def named(name_or_path: str) -> Path:
    """A scenario file by its path, or a shipped one by its name (a name has no folder and no .json)."""
    path = Path(name_or_path)
    if path.suffix == ".json" or len(path.parts) > 1:
        return path
    return bundled(name_or_path)


def load(path: str | Path) -> dict:
    """Read and check a scenario file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise Invalid(f"cannot read scenario {path}: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise Invalid(f"{path} is not a {FORMAT} scenario")
    for key in ("services", "branches"):
        if not isinstance(data.get(key), list) or not data[key]:
            raise Invalid(f"scenario {path} has no {key}")
    try:
        _check(data)
    except Invalid as error:
        raise Invalid(f"scenario {path}: {error}") from None
    return data


def _check(data: dict) -> None:
    """What the day needs of a scenario, each fault named (a city never seen must not end in a traceback)."""
    for key in ("open", "close"):
        if key in data and not _is_hhmm(data[key]):
            raise Invalid(f"{key} {data[key]!r} is not a time HH:MM")
    if hhmm_minutes(data.get("open", "07:30")) >= hhmm_minutes(data.get("close", "17:00")):
        raise Invalid("open is not before close")
    known = set()
    for item in data["services"]:
        _need(item, "id", str, "a service")
        _names(item, "service")
        time = item.get("service_min", {})
        if not isinstance(time, dict) or not all(_number(time.get(k, 1.0)) for k in ("mean", "cv")) \
                or time.get("mean", 1.0) <= 0:
            raise Invalid(f"service {item['id']!r}: service_min needs a mean above 0 and a cv of 0 or more")
        known.add(item["id"])
    where: dict[str, set] = {}   # each branch's services (served by a counter of it)
    for item in data["branches"]:
        _need(item, "id", str, "a branch")
        _names(item, "branch")
        if not (_number(item.get("lat"), -90, 90) and _number(item.get("lon"), -180, 180)):
            raise Invalid(f"branch {item['id']!r} needs lat and lon in degrees")
        _need(item, "counters", list, f"branch {item['id']!r}")
        for counter in item["counters"]:
            _need(counter, "services", list, f"a counter of branch {item['id']!r}")
            unknown = [s for s in counter["services"] if s not in known]
            if "id" not in counter or unknown:
                raise Invalid(f"a counter of branch {item['id']!r} needs an id and known services "
                              f"(unknown: {', '.join(map(str, unknown))})")
            _check_shifts(counter.get("shifts") or item.get("shifts"), item["id"])
        where[item["id"]] = {s for counter in item["counters"] for s in counter["services"]}
    for item in data.get("arrivals", ()):
        rates = item.get("per_hour") if isinstance(item, dict) else None
        if not isinstance(rates, list) or not all(_number(r, 0) for r in rates) \
                or item.get("branch") not in where or item.get("service") not in known:
            named = f"{item.get('branch')!r}, {item.get('service')!r}" if isinstance(item, dict) else repr(item)
            raise Invalid(f"arrivals ({named:.80}) need a known branch and service and per_hour rates of 0 or more")
        if any(rates) and item["service"] not in where[item["branch"]]:
            raise Invalid(f"citizens arrive at branch {item['branch']!r} for {item['service']!r}, which no counter "
                          "of it serves")


def _need(item, key: str, kind: type, what: str) -> None:
    if not isinstance(item, dict) or not isinstance(item.get(key), kind):
        raise Invalid(f"{what} needs {key}: {item!r:.80}")


def _number(value, low: float = float("-inf"), high: float = float("inf")) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def _is_hhmm(value) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value))


def _check_shifts(shifts, branch_id: str) -> None:
    if shifts is None:
        return
    if not isinstance(shifts, list) or not all(isinstance(s, list) and len(s) == 2 and all(map(_is_hhmm, s))
                                               and s[0] < s[1] for s in shifts):
        raise Invalid(f"branch {branch_id!r}: shifts are [[\"HH:MM\", \"HH:MM\"], …], each start before its end")


def services(data: dict) -> list[Service]:
    """Services with their ticket letters: given as `letter`, else A, B, C… in file order."""
    result = []
    for index, item in enumerate(data["services"]):
        letter = item.get("letter") or _letters(index)
        time = item.get("service_min", {})
        description = item.get("description", {})
        result.append(Service(item["id"], *_names(item, "service"), letter,
                              float(time.get("mean", 10.0)), float(time.get("cv", 0.6)),
                              description.get("vi", ""), description.get("en", "")))
    return result


def branches(data: dict) -> list[Branch]:
    result = []
    for item in data["branches"]:
        offered = tuple(dict.fromkeys(s for c in item["counters"] for s in c["services"]))
        result.append(Branch(item["id"], *_names(item, "branch"), float(item["lat"]),
                             float(item["lon"]), offered, data.get("open", "07:30"), data.get("close", "17:00"),
                             _shifts(item.get("shifts"))))
    return result


def counters(data: dict) -> list[Counter]:
    result = []
    for branch in data["branches"]:
        for item in branch["counters"]:
            shifts = _shifts(item.get("shifts") or branch.get("shifts"))
            result.append(Counter(branch["id"], str(item["id"]), tuple(item["services"]), True, shifts))
    return result


def _names(item: dict, what: str) -> tuple[str, str]:
    """An item's Vietnamese and English names: `name` as {"vi", "en"} (en missing: the vi one), or one
    text for both (the format's `name` of a branch says no more)."""
    name = item.get("name")
    if isinstance(name, str) and name.strip():
        return name, name
    if isinstance(name, dict) and isinstance(name.get("vi"), str) and name["vi"].strip():
        en = name.get("en")
        return name["vi"], en if isinstance(en, str) and en.strip() else name["vi"]
    raise Invalid(f"{what} {item.get('id')!r} has no name: a text, or {{\"vi\": …, \"en\": …}}")


def _shifts(raw) -> tuple[tuple[str, str], ...]:
    return tuple((start, end) for start, end in raw or ())


def _letters(index: int) -> str:
    alphabet = string.ascii_uppercase
    return alphabet[index] if index < 26 else alphabet[index // 26 - 1] + alphabet[index % 26]
