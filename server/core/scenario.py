"""City-day scenarios (format motcua-scenario/1): branches, services, counters, arrivals."""
from __future__ import annotations

import json
import string
from pathlib import Path

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
    return data


def services(data: dict) -> list[Service]:
    """Services with their ticket letters: given as `letter`, else A, B, C… in file order."""
    result = []
    for index, item in enumerate(data["services"]):
        letter = item.get("letter") or _letters(index)
        time = item.get("service_min", {})
        description = item.get("description", {})
        result.append(Service(item["id"], item["name"]["vi"], item["name"]["en"], letter,
                              float(time.get("mean", 10.0)), float(time.get("cv", 0.6)),
                              description.get("vi", ""), description.get("en", "")))
    return result


def branches(data: dict) -> list[Branch]:
    result = []
    for item in data["branches"]:
        offered = tuple(dict.fromkeys(s for c in item["counters"] for s in c["services"]))
        result.append(Branch(item["id"], item["name"]["vi"], item["name"]["en"], float(item["lat"]),
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


def _shifts(raw) -> tuple[tuple[str, str], ...]:
    return tuple((start, end) for start, end in raw or ())


def _letters(index: int) -> str:
    alphabet = string.ascii_uppercase
    return alphabet[index] if index < 26 else alphabet[index // 26 - 1] + alphabet[index % 26]
