"""A real-size city made in the test, not taken from the shipped catalogue: 50 branches, and at hk-01
25 services with the longest real names, 20 counters and 300 citizens waiting (issued through the
engine). The staff pages' layout tests run on it; USERS and DEVICES of conftest sign in as usual."""
from __future__ import annotations

import copy
import json
import signal
from pathlib import Path

import pytest

from motcua.config import load_config
from motcua.core import scenario
from motcua.core.clock import SystemClock
from motcua.web.runtime import open_runtime

from conftest import HOAN_KIEM, Template, load_with_staff, make_server

SERVICES = 25
COUNTERS = 20
WAITING = 300
BRANCHES = 50

# Real field names of the national catalogue, the longest first; numbered when the list runs out.
NAMES = [
    ("Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
     "Registration of changes in land use rights and ownership of property attached to land"),
    ("Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất",
     "Certificates of land use rights, house ownership and other property attached to land"),
    ("Thành lập và hoạt động của hộ kinh doanh, hợp tác xã, liên hiệp hợp tác xã",
     "Founding and running household businesses, cooperatives and unions of cooperatives"),
    ("Chứng thực bản sao từ bản chính, chữ ký, hợp đồng, giao dịch",
     "Certified copies from originals, signatures, contracts and transactions"),
    ("Cấp giấy phép xây dựng, sửa chữa, cải tạo công trình",
     "Permits for building, repairing and renovating works"),
    ("Bảo trợ xã hội, người có công với cách mạng", "Social protection and people with meritorious services"),
    ("Hộ tịch: khai sinh, kết hôn, khai tử", "Civil status: births, marriages and deaths"),
    ("Giáo dục và đào tạo, công nhận trường đạt chuẩn", "Education and training, school accreditation"),
    ("Y tế dự phòng, an toàn thực phẩm", "Preventive health care and food safety"),
    ("Tài nguyên nước, môi trường, khoáng sản", "Water resources, environment and minerals"),
]


def service_names(index: int) -> tuple[str, str]:
    vi, en = NAMES[index % len(NAMES)]
    return (vi, en) if index < len(NAMES) else (f"{vi} ({index + 1})", f"{en} ({index + 1})")


def city() -> dict:
    """The scenario: Hoan Kiem's hk-01 and hk-02 grown to the real size, and 48 more branches."""
    data = copy.deepcopy(scenario.load(HOAN_KIEM))
    own = {s["id"] for s in data["services"]}
    for index in range(len(data["services"]), SERVICES):
        vi, en = service_names(index)
        data["services"].append({"id": f"field-{index + 1:02d}", "name": {"vi": vi, "en": en},
                                 "description": {"vi": vi, "en": en}, "service_min": {"mean": 12, "cv": 0.6}})
    for service in data["services"]:
        if service["id"] in own:   # the shipped names, made as long as the real ones
            index = sorted(own).index(service["id"])
            service["name"] = dict(zip(("vi", "en"), service_names(index)))
    ids = [s["id"] for s in data["services"]]
    hk01 = next(b for b in data["branches"] if b["id"] == "hk-01")
    hk01["name"] = {"vi": "Trung tâm Phục vụ hành chính công số 01 - phường Trần Hưng Đạo, quận Hoàn Kiếm",
                    "en": "Public Administrative Service Centre No. 01 - Tran Hung Dao ward, Hoan Kiem"}
    # Each counter takes three or four fields; together they take all 25.
    hk01["counters"] = [{"id": str(n + 1), "services": [ids[(n * 3 + k) % SERVICES] for k in range(3 + n % 2)]}
                        for n in range(COUNTERS)]
    hk01["counters"][0]["services"] = ["civil", "cert"] + hk01["counters"][0]["services"][2:]
    template = next(b for b in data["branches"] if b["id"] == "hk-02")
    for n in range(len(data["branches"]), BRANCHES):
        branch = copy.deepcopy(template)
        branch["id"] = f"hn-{n + 1:02d}"
        branch["name"] = {"vi": f"Chi nhánh số {n + 1:02d} - Trung tâm Phục vụ hành chính công thành phố Hà Nội",
                          "en": f"Branch No. {n + 1:02d} - Hanoi City Public Administrative Service Centre"}
        branch["lat"] += n * 0.001
        data["branches"].append(branch)
    return data


def build(path: Path) -> Template:
    """The city's database with USERS and DEVICES (tokens by the wall clock) and WAITING tickets at hk-01."""
    data = city()
    clock = SystemClock()
    tokens = load_with_staff(path, data, clock)
    runtime = open_runtime(load_config(server={"db": str(path), "async_mode": "threading"}), clock)
    ids = [s["id"] for s in data["services"]]
    for n in range(WAITING):
        runtime.engine.issue("hk-01", ids[n % SERVICES], priority=n % 17 == 0)
    runtime.store.close()
    return Template(path, tokens)


@pytest.fixture(scope="session")
def big_template(tmp_path_factory) -> Template:
    """The city's database, made once a session (tests import this fixture)."""
    return build(tmp_path_factory.mktemp("big-city") / "motcua.db")


@pytest.fixture(scope="module")
def big_server(tmp_path_factory, big_template):
    """A real server on the city, one per test module."""
    srv = make_server(tmp_path_factory.mktemp("big-srv"), big_template)
    yield srv
    srv.kill(signal.SIGTERM)


if __name__ == "__main__":   # python tests/big_city.py: the scenario, to look at
    print(json.dumps(city(), ensure_ascii=False, indent=1))
