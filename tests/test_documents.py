"""Documents: judged by content, stored once by SHA-256, encrypted at rest, reused, read by who handles the dossier."""
from __future__ import annotations

import hashlib
import io
import os
import signal

import pytest
import requests
from cryptography.fernet import Fernet, InvalidToken
from PIL import Image

from motcua.config import load_config, override
from motcua.core.dossiers import COUNTER, DEPARTMENT, Citizen, check_character
from motcua.core.intake import MissingReason
from motcua.documents import (JPEG, MIB, PDF, PNG, WRITING, DocumentTooLarge, UnsupportedDocument, documents_folder,
                              sniff)
from motcua.web.app import create_app

from conftest import PASSWORD, Api, Server, free_port

KEY = Fernet.generate_key().decode()
CITIZEN, OTHER_CITIZEN = "001090012345", "079185000111"


def image(form: str, size=(40, 30), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, form)
    return out.getvalue()


def pdf(text: str = "giay to") -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.set_compression(False)  # the text readable in the bytes, so that its absence at rest means something
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text=text)
    return bytes(document.output())


# A Linux executable and a Windows one, renamed to .pdf or .png by whoever sends them.
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


# ---- by content ------------------------------------------------------------------------------

@pytest.mark.parametrize("data, mime", [(pdf(), PDF), (image("PNG"), PNG), (image("JPEG"), JPEG)],
                         ids=["pdf", "png", "jpeg"])
def test_pdf_jpeg_and_png_are_known_by_their_content(data, mime):
    assert sniff(data, MIB) == mime


@pytest.mark.parametrize("data", [
    ELF, EXE,
    b"%PDF-1.7 but no trailer" * 10,                   # a PDF's header without its end
    b"\x89PNG\r\n\x1a\n" + ELF,                          # a PNG's signature in front of something else
    image("PNG")[:60],                                  # a PNG cut short
    b"\xff\xd8\xff\xe0" + EXE,                           # a JPEG's signature in front of an executable
    image("JPEG", size=(400, 300))[:-300],                # a JPEG cut short
    image("GIF"),                                       # an image, of a type not taken
    b"hello, world\n",
], ids=["elf", "exe", "pdf-no-eof", "png-signature-only", "png-truncated", "jpeg-signature-only", "jpeg-truncated",
        "gif", "text"])
def test_anything_else_is_refused_whatever_it_is_called(data):
    with pytest.raises(UnsupportedDocument):
        sniff(data, MIB)


def test_empty_and_too_large_are_refused():
    with pytest.raises(Exception) as empty:
        sniff(b"", MIB)
    assert getattr(empty.value, "code", None) == "empty_document"
    with pytest.raises(DocumentTooLarge):
        sniff(image("PNG") + b"\x00" * MIB, MIB)


# ---- a dossier to attach to ------------------------------------------------------------------

@pytest.fixture
def doc_app(config, clock, tmp_path):
    app = create_app(override(config, dossiers={"documents": str(tmp_path / "documents"), "document_key": KEY,
                                                "max_document_mib": 1.0}), clock)
    app.config["TESTING"] = True
    accounts = app.extensions["motcua"].accounts
    for name, department in (("justice1", "justice"), ("land1", "land-env")):
        accounts.add_user(name, PASSWORD, "department", None, department=department)
    yield app
    app.extensions["motcua"].store.close()


@pytest.fixture
def docs(doc_app, tokens) -> Api:
    return Api(doc_app.test_client(), tokens)


def new_dossier(app, citizen: str = CITIZEN, branch: str = "hk-01", return_branch: str = "hk-02") -> str:
    """The code of a new birth registration (department justice) received at branch."""
    return app.extensions["motcua"].dossiers.open("HT-KS", Citizen(citizen, "Nguyễn Văn An"), branch, "staff:off1",
                                                  return_branch=return_branch)["code"]


def upload(docs: Api, code: str, data: bytes, kind: str = "id_card", who: str = "off1", name: str = "scan.pdf",
           declared: str = "application/pdf"):
    return docs.post(f"/dossiers/{code}/documents", who, data={"file": (io.BytesIO(data), name, declared),
                                                             "kind": kind}, content_type="multipart/form-data")


def stored_files(app) -> list:
    """Every file in the documents folder but the lock its writes hold."""
    folder = app.extensions["motcua"].documents.folder
    return [p for p in folder.rglob("*") if p.is_file() and p.name != WRITING] if folder.exists() else []


# ---- upload, at rest, reuse ------------------------------------------------------------------

def test_a_document_on_disk_is_not_the_bytes_and_does_not_open_without_the_key(doc_app, docs):
    code = new_dossier(doc_app)
    scan = pdf("CAN CUOC 001090012345")
    answer = upload(docs, code, scan)
    assert answer.status_code == 201, answer.text
    sha = hashlib.sha256(scan).hexdigest()
    assert answer.json["sha256"] == sha and answer.json["mime"] == PDF and answer.json["reused"] is False
    [stored] = stored_files(doc_app)
    at_rest = stored.read_bytes()
    assert stored.name == sha
    assert b"001090012345" in scan and scan not in at_rest and b"%PDF" not in at_rest and b"001090012345" not in at_rest
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(at_rest)
    assert Fernet(KEY.encode()).decrypt(at_rest) == scan
    # The officer downloads exactly what was scanned.
    read = docs.get(f"/dossiers/{code}/documents/{sha}", "off1")
    assert read.status_code == 200 and read.data == scan and read.mimetype == PDF
    assert read.headers["Cache-Control"] == "no-store"


def test_a_renamed_executable_empty_and_too_large_files_are_refused_and_nothing_is_kept(doc_app, docs):
    code = new_dossier(doc_app)
    cases = [(ELF, 415, "unsupported_document"), (EXE, 415, "unsupported_document"), (b"", 400, "empty_document"),
             (image("PNG") + b"\x00" * MIB, 413, "document_too_large")]
    for data, status, refusal in cases:
        answer = upload(docs, code, data, name="scan.pdf", declared="application/pdf")
        assert (answer.status_code, answer.json["error"]["code"]) == (status, refusal), answer.text
    # A body far past the limit is cut off before it is read in full.
    huge = upload(docs, code, b"%PDF-" + b"\x00" * (3 * MIB))
    assert huge.status_code == 413, huge.text
    assert not stored_files(doc_app)
    rt = doc_app.extensions["motcua"]
    assert rt.store.query("select count(*) as n from documents")[0]["n"] == 0
    assert rt.store.query("select count(*) as n from dossier_documents")[0]["n"] == 0


def test_a_scan_past_the_limit_is_refused_as_too_large_with_the_limit_however_far_past(doc_app, docs):
    code = new_dossier(doc_app)
    for extra in (1, 3 * MIB):   # just past the limit (read, then refused), or far past it (cut off)
        answer = upload(docs, code, b"%PDF-" + b"\x00" * (MIB + extra) + b"%%EOF")
        assert answer.status_code == 413, answer.text
        assert answer.json["error"]["code"] == "document_too_large"
        assert answer.json["error"]["details"] == {"max_mib": 1.0}


def test_a_form_without_its_file_or_kind_is_refused(doc_app, docs):
    code = new_dossier(doc_app)
    no_file = docs.post(f"/dossiers/{code}/documents", "off1", data={"kind": "id_card"},
                        content_type="multipart/form-data")
    assert no_file.status_code == 400 and no_file.json["error"]["code"] == "missing_field"
    assert upload(docs, code, pdf(), kind="").json["error"]["code"] == "bad_kind"
    assert upload(docs, code, pdf(), kind="../x").status_code == 400


def test_the_same_file_twice_on_one_dossier_is_a_duplicate(doc_app, docs):
    code = new_dossier(doc_app)
    scan = image("JPEG")
    assert upload(docs, code, scan, name="a.jpg").status_code == 201
    again = upload(docs, code, scan, name="b.jpg", kind="civil_form")
    assert again.status_code == 409 and again.json["error"]["code"] == "duplicate_document"
    # The first upload's file stays: the refused second one took nothing with it.
    assert len(stored_files(doc_app)) == 1
    sha = hashlib.sha256(scan).hexdigest()
    assert docs.get(f"/dossiers/{code}/documents/{sha}", "off1").data == scan


def test_an_application_form_is_never_reused_nor_is_another_kind_reused_as_one(doc_app, docs):
    """A form is filled in for one dossier: reusing it, or reusing an identity card as a form, is refused."""
    first = new_dossier(doc_app)
    second = new_dossier(doc_app)
    form = upload(docs, first, image("PNG"), kind="civil_form").json["sha256"]
    card = upload(docs, first, image("JPEG"), kind="id_card").json["sha256"]
    for body in ({"reuse": form}, {"reuse": card, "kind": "civil_form"}):
        refused = docs.post(f"/dossiers/{second}/documents", "off1", body)
        assert (refused.status_code, refused.json["error"]["code"]) == (409, "not_reusable"), refused.text
    assert docs.post(f"/dossiers/{second}/documents", "off1", {"reuse": card}).status_code == 201
    assert [r["kind"] for r in doc_app.extensions["motcua"].documents.of_dossier(second)] == ["id_card"]


def test_a_copy_is_reused_only_as_a_kind_the_dossier_asks_for(doc_app, docs):
    """A citizen's papers go into a dossier only as far as it needs them: its procedure's kinds, and while it
    waits for a supplement the kinds asked for; the offers list says the same."""
    first, second = new_dossier(doc_app), new_dossier(doc_app)   # birth registrations: no land certificate
    deed = upload(docs, first, image("PNG"), kind="land_certificate").json["sha256"]
    card = upload(docs, first, image("JPEG"), kind="id_card").json["sha256"]
    offered = lambda: {d["kind"] for d in docs.get(f"/dossiers/{second}/offers", "off1").json}
    assert offered() == {"id_card"}
    for body in ({"reuse": deed}, {"reuse": card, "kind": "land_certificate"}):
        refused = docs.post(f"/dossiers/{second}/documents", "off1", body)
        assert (refused.status_code, refused.json["error"]["code"]) == (409, "not_required"), refused.text
    assert doc_app.extensions["motcua"].documents.of_dossier(second) == []
    # The department asks for the land certificate: now it is offered, and reused.
    dossiers = doc_app.extensions["motcua"].dossiers
    waived = [MissingReason(k, "issued_here") for k in ("civil_form", "birth_notice", "id_card")]
    dossiers.move(second, "digitized", [COUNTER], "staff:off1", "hk-01", missing=waived)
    dossiers.move(second, "processing", [COUNTER], "staff:off1", "hk-01")
    dossiers.move(second, "supplement_requested", [DEPARTMENT], "staff:jus1", None, "Bring the land certificate.",
                  ["land_certificate"])
    assert offered() == {"id_card", "land_certificate"}
    taken = docs.post(f"/dossiers/{second}/documents", "off1", {"reuse": deed})
    assert taken.status_code == 201 and taken.json["kind"] == "land_certificate", taken.text


def test_a_second_dossier_of_the_citizen_reuses_a_document_and_says_so(doc_app, docs):
    first = new_dossier(doc_app)
    second = new_dossier(doc_app, branch="hk-02", return_branch="hk-02")
    theirs_code = new_dossier(doc_app, citizen=OTHER_CITIZEN, branch="hk-02", return_branch="hk-02")
    scan = image("PNG")
    sha = upload(docs, first, scan, kind="birth_notice").json["sha256"]
    # The returning branch's officer, another day: the citizen's documents are there to reuse.
    found = docs.get(f"/citizens/{CITIZEN}/documents", "off2")
    assert found.status_code == 200, found.text
    assert [(d["sha256"], d["kind"]) for d in found.json] == [(sha, "birth_notice")]
    reused = docs.post(f"/dossiers/{second}/documents", "off2", {"reuse": sha})
    assert reused.status_code == 201, reused.text
    assert reused.json["reused"] is True and reused.json["kind"] == "birth_notice"
    assert reused.json["attached_by"] == "staff:off2"
    rows = doc_app.extensions["motcua"].documents.of_dossier(second)
    assert [(r["sha256"], r["reused"]) for r in rows] == [(sha, True)]
    assert len(stored_files(doc_app)) == 1            # one file for both dossiers
    # What the receipt is printed from: the full dossier says the document was reused, not scanned.
    full = docs.get(f"/dossiers/{second}/full", "off2")
    assert full.status_code == 200, full.text
    assert [(d["sha256"], d["kind"], d["reused"]) for d in full.json["documents"]] == [(sha, "birth_notice", True)]
    assert [d["reused"] for d in docs.get(f"/dossiers/{first}/full", "off1").json["documents"]] == [False]
    again = docs.post(f"/dossiers/{second}/documents", "off2", {"reuse": sha})
    assert again.status_code == 409 and again.json["error"]["code"] == "duplicate_document"
    # Another citizen's dossier cannot take it: to it, that document does not exist.
    theirs = docs.post(f"/dossiers/{theirs_code}/documents", "off2", {"reuse": sha})
    assert theirs.status_code == 404 and theirs.json["error"]["code"] == "unknown_document"
    assert docs.get(f"/citizens/{OTHER_CITIZEN}/documents", "off2").json == []
    assert docs.post(f"/dossiers/{second}/documents", "off2", {"reuse": "x"}).status_code == 400
    unknown_kind = docs.post(f"/dossiers/{second}/documents", "off2", {"reuse": sha, "kind": "passport_xyz"})
    assert unknown_kind.status_code == 400 and unknown_kind.json["error"]["code"] == "bad_kind"
    assert upload(docs, first, pdf(), kind="passport_xyz").json["error"]["code"] == "bad_kind"
    assert docs.get("/citizens/12345/documents", "off2").status_code == 400


def test_a_closed_dossier_takes_no_more_documents(doc_app, docs):
    code = new_dossier(doc_app)
    rt = doc_app.extensions["motcua"]
    rt.store.write(lambda db: db.execute("update dossiers set status = 'returned' where code = ?", [code]))
    answer = upload(docs, code, pdf())
    assert answer.status_code == 409 and answer.json["error"]["code"] == "dossier_closed"
    assert not stored_files(doc_app)


def test_a_failed_transaction_leaves_no_file(doc_app, docs, monkeypatch):
    code = new_dossier(doc_app)
    documents = doc_app.extensions["motcua"].documents

    def failing(fn):
        raise OSError("disk gone")
    monkeypatch.setattr(documents.store, "write", failing)
    with pytest.raises(OSError):
        documents.upload(doc_app.extensions["motcua"].dossiers.get(code), pdf(), "id_card", _actor())
    assert not stored_files(doc_app)


def _actor():
    from motcua.documents import Actor

    return Actor("staff:off1", "hk-01")


# ---- who reads, and every read written down --------------------------------------------------

@pytest.mark.parametrize("who, allowed", [
    ("off1", True),       # the receiving branch
    ("off2", True),       # the returning branch
    ("mgr1", True),       # staff of the receiving branch
    ("admin", True),
    ("justice1", True),   # the competent department
    ("land1", False),     # another department
    ("kiosk1", False), ("display1", False),
])
def test_only_who_handles_the_dossier_reads_its_documents_and_each_read_is_an_event(doc_app, docs, who, allowed):
    code = new_dossier(doc_app, branch="hk-01", return_branch="hk-02")
    scan = pdf()
    sha = upload(docs, code, scan).json["sha256"]
    rt = doc_app.extensions["motcua"]
    before = rt.store.query("select count(*) as n from events where note like 'document_read:%'")[0]["n"]
    if who in ("justice1", "land1"):
        docs.tokens[who] = rt.accounts.login(who, PASSWORD)[0]
    answer = docs.get(f"/dossiers/{code}/documents/{sha}", who)
    reads = rt.store.query("select * from events where note like 'document_read:%' order by id")
    if allowed:
        assert answer.status_code == 200 and answer.data == scan
        assert len(reads) == before + 1
        read = reads[-1]
        assert (read["dossier"], read["note"], read["actor"], read["ticket"]) == (
            code, f"document_read:{sha}", f"staff:{who}", None)
        assert read["at"] == rt.engine.clock.now()
        # The public timeline is the dossier's steps: attaching and reading documents are not among them.
        assert [h["status"] for h in docs.get(f"/dossiers/{code}?check={check_character(code)}").json["history"]] == ["received"]
    else:
        assert answer.status_code == 403
        assert len(reads) == before


def test_staff_of_another_branch_neither_read_nor_attach(doc_app, docs):
    code = new_dossier(doc_app, branch="hk-02", return_branch="hk-02")
    sha = upload(docs, code, pdf(), who="off2").json["sha256"]
    assert upload(docs, code, image("PNG"), who="off1").status_code == 403
    assert docs.get(f"/dossiers/{code}/documents/{sha}", "off1").status_code == 403
    assert docs.get(f"/dossiers/{code}/documents/{sha}").status_code == 401
    assert docs.get(f"/dossiers/{code}/documents/{'0' * 64}", "off2").status_code == 404
    assert docs.get(f"/citizens/{CITIZEN}/documents", "kiosk1").status_code == 403
    # A code with a wrong check character is refused, never taken for another dossier.
    mistyped = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert docs.get(f"/dossiers/{mistyped}/documents/{sha}", "off2").json["error"]["code"] == "bad_code"


def test_attaching_is_an_event_of_the_dossier_in_the_chain(doc_app, docs):
    from motcua import audit

    code = new_dossier(doc_app)
    sha = upload(docs, code, pdf()).json["sha256"]
    rt = doc_app.extensions["motcua"]
    [event] = rt.store.query("select * from events where dossier = ? and note like 'document_attached:%'",
                             [code])
    assert (event["note"], event["actor"], event["branch"]) == (f"document_attached:{sha}", "staff:off1", "hk-01")
    assert event["hash"] == audit.event_hash(
        rt.store.query("select hash from events where id < ? order by id desc limit 1", [event["id"]])[0]["hash"]
        if event["id"] > 1 else audit.GENESIS, {k: v for k, v in event.items()})


def test_without_a_key_documents_are_refused_not_kept_in_the_clear(config, clock, tokens, tmp_path, monkeypatch):
    monkeypatch.delenv("MOTCUA_DOCUMENT_KEY", raising=False)
    app = create_app(override(config, dossiers={"documents": str(tmp_path / "plain")}), clock)
    rt = app.extensions["motcua"]
    try:
        assert rt.documents is None
        code = new_dossier(app)
        answer = upload(Api(app.test_client(), tokens), code, pdf())
        assert answer.status_code == 503 and answer.json["error"]["code"] == "documents_unavailable"
        assert not (tmp_path / "plain").exists()
    finally:
        rt.store.close()


def test_the_key_may_come_from_the_environment_and_a_wrong_one_is_refused(config, clock, tmp_path, monkeypatch):
    from motcua.documents import DocumentKeyError

    monkeypatch.setenv("MOTCUA_DOCUMENT_KEY", KEY)
    app = create_app(override(config, dossiers={"documents": str(tmp_path / "env")}), clock)
    assert app.extensions["motcua"].documents is not None
    app.extensions["motcua"].store.close()
    monkeypatch.setenv("MOTCUA_DOCUMENT_KEY", "not-a-key")
    with pytest.raises(DocumentKeyError):
        create_app(override(config, dossiers={"documents": str(tmp_path / "env")}), clock)


def test_a_department_reads_its_dossiers_documents_but_neither_attaches_nor_lists_a_citizens(doc_app, docs):
    code = new_dossier(doc_app)
    sha = upload(docs, code, pdf()).json["sha256"]
    accounts = doc_app.extensions["motcua"].accounts
    justice = accounts.login("justice1", PASSWORD)[0]
    assert docs.get(f"/dossiers/{code}/documents/{sha}", justice).status_code == 200
    assert upload(docs, code, image("PNG"), who=justice).status_code == 403
    assert docs.post(f"/dossiers/{code}/documents", justice, {"reuse": sha}).status_code == 403
    assert docs.get(f"/citizens/{CITIZEN}/documents", justice).status_code == 403


def test_a_scan_larger_than_any_json_body_goes_through_the_real_server(tmp_path, real_template):
    """Under gevent, with the server's 64 KiB body limit: the upload alone may carry a whole document."""
    settings = tmp_path / "config.toml"
    settings.write_text(f'[dossiers]\ndocuments = "docs"\ndocument_key = "{KEY}"\nmax_document_mib = 1.0\n',
                        encoding="utf-8")
    server = Server(real_template.copy_to(tmp_path / "motcua.db"), free_port(), tmp_path / "server.log",
                    tokens=dict(real_template.tokens), args=("--config", str(settings)))
    server.start()
    try:
        auth = server.auth("off1")
        opened = requests.post(f"{server.api}/dossiers", headers=auth, timeout=10, json={
            "procedure": "HT-KS", "citizen": {"id_number": CITIZEN, "name": "Phạm Thị Dung"}})
        assert opened.status_code == 201, opened.text
        code = opened.json()["code"]
        noisy = image_of_noise(300_000)
        for data, status in ((noisy, 201), (noisy + b"\x00" * MIB, 413)):
            answer = requests.post(f"{server.api}/dossiers/{code}/documents", headers=auth, timeout=10,
                                   files={"file": ("scan.png", data, "image/png")}, data={"kind": "id_card"})
            assert answer.status_code == status, answer.text
        sha = hashlib.sha256(noisy).hexdigest()
        read = requests.get(f"{server.api}/dossiers/{code}/documents/{sha}", headers=auth, timeout=10)
        assert read.status_code == 200 and read.content == noisy
        assert (tmp_path / "docs" / sha[:2] / sha).exists()
    finally:
        server.kill(signal.SIGTERM)


def image_of_noise(at_least: int) -> bytes:
    """A PNG of random pixels (it does not compress): at least that many bytes."""
    side = int((at_least / 3) ** 0.5) + 1
    return image_from(os.urandom(side * side * 3), side)


def image_from(pixels: bytes, side: int) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, "PNG")
    return out.getvalue()


# ---- another branch's documents: only for the citizen at the officer's counter ---------------

def civil_counter(app, branch: str) -> str:
    engine = app.extensions["motcua"].engine
    return next(c.id for c in engine.counters_of(branch) if "civil" in c.services)


def called_ticket(docs: Api, app, branch: str = "hk-01", who: str = "off1") -> str:
    """The id of a ticket issued at branch's kiosk and called to its civil-status counter by who."""
    kiosk = {"hk-01": "kiosk1", "hk-02": "kiosk2"}[branch]
    ticket = docs.issue("civil", kiosk, branch)["id"]
    called = docs.post(f"/branches/{branch}/counters/{civil_counter(app, branch)}/call", who, {"ticket": ticket})
    assert called.status_code == 200, called.text
    return ticket


def open_dossier(docs: Api, who: str = "off1", ticket: str | None = None, citizen: str = CITIZEN,
                 name: str = "Ai Đó") -> str:
    body = {"procedure": "HT-KS", "citizen": {"id_number": citizen, "name": name}}
    if ticket:
        body["ticket"] = ticket
    opened = docs.post("/dossiers", who, body)
    assert opened.status_code == 201, opened.text
    return opened.json["code"]


@pytest.fixture
def scan_at_hk02(doc_app, docs):
    """A scan of the citizen's uploaded at hk-02 for a dossier of hk-02's: (its code, the bytes, their sha)."""
    code = new_dossier(doc_app, branch="hk-02", return_branch="hk-02")
    scan = pdf("CCCD 001090012345 hk-02")
    answer = upload(docs, code, scan, who="off2")
    assert answer.status_code == 201, answer.text
    return code, scan, answer.json["sha256"]


def test_an_officer_cannot_take_another_branch_s_scan_with_only_the_id_number(doc_app, docs, scan_at_hk02):
    """The probe's attack: hk-01 lists the citizen's documents, opens a dossier with any name and no ticket,
    reuses hk-02's scan and downloads it. The listing names no dossier code; the reuse is refused."""
    theirs, scan, sha = scan_at_hk02
    listed = docs.get(f"/citizens/{CITIZEN}/documents", "off1")
    assert listed.status_code == 200, listed.text
    assert [(d["sha256"], d["kind"]) for d in listed.json] == [(sha, "id_card")]
    assert theirs not in listed.text and all("dossier" not in d for d in listed.json)
    mine = open_dossier(docs, name="Kẻ Gian")
    reused = docs.post(f"/dossiers/{mine}/documents", "off1", {"reuse": sha})
    assert reused.status_code == 403 and reused.json["error"]["code"] == "citizen_not_present", reused.text
    assert docs.get(f"/dossiers/{mine}/documents/{sha}", "off1").status_code == 404
    assert docs.get(f"/dossiers/{mine}/full", "off1").json["documents"] == []
    # A ticket of the branch that is not at a counter (waiting) does not make the citizen present either.
    waiting = docs.issue("civil", "kiosk1", "hk-01")["id"]
    assert docs.post(f"/dossiers/{open_dossier(docs, ticket=waiting)}/documents", "off1",
                     {"reuse": sha}).json["error"]["code"] == "citizen_not_present"


def test_the_citizen_at_the_counter_gets_their_scan_from_another_branch_and_the_dossier_says_so(
        doc_app, docs, scan_at_hk02):
    _, scan, sha = scan_at_hk02
    # A finished ticket's citizen has left: a dossier on it takes nothing from hk-02.
    gone = called_ticket(docs, doc_app)
    assert docs.post(f"/tickets/{gone}/done", "off1").status_code == 200
    assert docs.post(f"/dossiers/{open_dossier(docs, ticket=gone)}/documents", "off1",
                     {"reuse": sha}).json["error"]["code"] == "citizen_not_present"
    ticket = called_ticket(docs, doc_app)
    mine = open_dossier(docs, ticket=ticket)
    reused = docs.post(f"/dossiers/{mine}/documents", "off1", {"reuse": sha})
    assert reused.status_code == 201, reused.text
    assert reused.json["reused"] is True
    read = docs.get(f"/dossiers/{mine}/documents/{sha}", "off1")
    assert read.status_code == 200 and read.data == scan
    events = docs.get(f"/dossiers/{mine}/full", "off1").json["events"]
    assert [(e["note"], e["actor"], e["branch"]) for e in events if e["note"] and "reused" in e["note"]] == [
        (f"document_reused:{sha}", "staff:off1", "hk-01")]


def test_a_ticket_at_the_counter_stands_for_one_citizen(doc_app, docs, scan_at_hk02):
    """A citizen at the counter does not make another citizen present: the dossier opened on their ticket for
    someone else's ID number takes nothing of that other citizen's from another branch."""
    _, _, sha = scan_at_hk02
    ticket = called_ticket(docs, doc_app)
    open_dossier(docs, ticket=ticket, citizen=OTHER_CITIZEN, name="Người Thật")
    victim = open_dossier(docs, ticket=ticket)
    refused = docs.post(f"/dossiers/{victim}/documents", "off1", {"reuse": sha})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "citizen_not_present"


def test_a_document_the_officer_s_branch_already_holds_is_reused_without_a_ticket(doc_app, docs):
    """What the officer could open already gives nothing away: the branch's own documents need no ticket."""
    first = new_dossier(doc_app, branch="hk-01", return_branch="hk-01")
    sha = upload(docs, first, pdf("ours")).json["sha256"]
    again = open_dossier(docs)
    reused = docs.post(f"/dossiers/{again}/documents", "off1", {"reuse": sha})
    assert reused.status_code == 201, reused.text
    assert docs.get(f"/citizens/{CITIZEN}/documents", "off1").json[0]["sha256"] == sha


def test_the_same_bytes_for_another_citizen_show_their_own_times_not_the_first_upload_s(doc_app, docs, clock):
    """Nothing tells B's officer that A's dossier had that scan first: every time B sees is B's own."""
    scan = image("PNG", color=(1, 2, 3))
    assert upload(docs, new_dossier(doc_app), scan).status_code == 201
    clock.advance(3600)
    local = doc_app.extensions["motcua"].engine.local.iso
    theirs = new_dossier(doc_app, citizen=OTHER_CITIZEN, branch="hk-02", return_branch="hk-02")
    second = upload(docs, theirs, scan, who="off2")
    assert second.status_code == 201, second.text
    assert second.json["attached_at"] == local(clock.now())
    assert "created_at" not in second.json
    [listed] = docs.get(f"/citizens/{OTHER_CITIZEN}/documents", "off2").json
    assert listed["created_at"] == local(clock.now())
    [attached] = docs.get(f"/dossiers/{theirs}/full", "off2").json["documents"]
    assert attached["attached_at"] == local(clock.now())


# ---- downloads: the parsed code, and nothing written for a download that failed ---------------

def document_reads(app) -> int:
    return app.extensions["motcua"].store.query(
        "select count(*) as n from events where note like 'document_read:%'")[0]["n"]


@pytest.mark.parametrize("odd", ["%0A", "%E2%80%A8", "%20", "%09"], ids=["newline", "line-separator", "space", "tab"])
def test_a_code_with_a_line_break_before_it_names_the_file_by_the_parsed_code(doc_app, docs, odd):
    code = new_dossier(doc_app)
    sha = upload(docs, code, pdf()).json["sha256"]
    answer = docs.get(f"/dossiers/{odd}{code.lower()}/documents/{sha}", "off1")
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Disposition"] == f'attachment; filename="{code}-id_card.pdf"'
    assert document_reads(doc_app) == 1


def test_a_download_that_fails_writes_no_read_event(doc_app, docs):
    code = new_dossier(doc_app)
    sha = upload(docs, code, pdf()).json["sha256"]
    mistyped = code[:-1] + ("A" if code[-1] != "A" else "B")
    for path, status in ((f"/dossiers/{mistyped}/documents/{sha}", 400),
                         (f"/dossiers/{code}/documents/{'0' * 64}", 404),
                         (f"/dossiers/{code}/documents/{sha.upper()}", 404)):
        answer = docs.get(path, "off1")
        assert answer.status_code == status and answer.json["error"]["code"], answer.text
    [stored] = stored_files(doc_app)
    stored.unlink()
    gone = docs.get(f"/dossiers/{code}/documents/{sha}", "off1")
    assert gone.status_code == 503 and gone.json["error"]["code"] == "storage_unavailable", gone.text
    assert document_reads(doc_app) == 0


def test_the_download_declares_its_400(doc_app):
    from motcua.web.openapi import spec

    responses = spec(doc_app)["paths"]["/dossiers/{code}/documents/{sha256}"]["get"]["responses"]
    assert {"400", "404", "503"} <= set(responses)


# ---- damage on disk, and the files of writes killed before their row -------------------------

def flip_a_bit(path) -> None:
    """One bit of the file's middle byte turned over, as a failing disk does."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x04
    path.write_bytes(bytes(data))


def document_file(app, sha: str):
    return app.extensions["motcua"].documents.folder / sha[:2] / sha


def test_a_damaged_file_is_said_so_and_the_same_bytes_uploaded_again_repair_it(doc_app, docs):
    code = new_dossier(doc_app)
    scan = pdf("hu hong")
    sha = upload(docs, code, scan).json["sha256"]
    flip_a_bit(document_file(doc_app, sha))
    broken = docs.get(f"/dossiers/{code}/documents/{sha}", "off1")
    assert broken.status_code == 503 and broken.json["error"]["code"] == "document_damaged", broken.text
    # The officer scans it again, for this citizen's next dossier: the file is checked and written anew.
    again = upload(docs, new_dossier(doc_app), scan)
    assert again.status_code == 201, again.text
    read = docs.get(f"/dossiers/{code}/documents/{sha}", "off1")
    assert read.status_code == 200 and read.data == scan
    assert Fernet(KEY.encode()).decrypt(document_file(doc_app, sha).read_bytes()) == scan
    # Sent again to the dossier that has it: 409 as before, and a damaged file is repaired all the same.
    flip_a_bit(document_file(doc_app, sha))
    assert upload(docs, code, scan).json["error"]["code"] == "duplicate_document"
    assert docs.get(f"/dossiers/{code}/documents/{sha}", "off1").data == scan
    # The row names the file as it now stands: damage from here on is told from a wrong key.
    [row] = doc_app.extensions["motcua"].store.query("select file_sha256 from documents")
    assert row["file_sha256"] == hashlib.sha256(document_file(doc_app, sha).read_bytes()).hexdigest()


def test_a_file_cut_short_under_a_row_of_before_is_damage_too(doc_app, docs):
    """Rows written before files' own hashes were kept: a file that is no longer a token's shape is damaged."""
    code = new_dossier(doc_app)
    sha = upload(docs, code, pdf("cu")).json["sha256"]
    rt = doc_app.extensions["motcua"]
    rt.store.write(lambda db: db.execute("update documents set file_sha256 = null"))
    stored = document_file(doc_app, sha)
    stored.write_bytes(stored.read_bytes()[:-7])
    read = docs.get(f"/dossiers/{code}/documents/{sha}", "off1")
    assert read.status_code == 503 and read.json["error"]["code"] == "document_damaged", read.text


def test_an_intact_file_under_another_key_is_a_key_mismatch_not_damage(config, clock, tokens, tmp_path):
    folder = str(tmp_path / "documents")
    first = create_app(override(config, dossiers={"documents": folder, "document_key": KEY}), clock)
    code = new_dossier(first)
    scan = pdf("khoa khac")
    sha = upload(Api(first.test_client(), tokens), code, scan).json["sha256"]
    first.extensions["motcua"].store.close()
    other = create_app(override(config, dossiers={"documents": folder,
                                                  "document_key": Fernet.generate_key().decode()}), clock)
    try:
        read = Api(other.test_client(), tokens).get(f"/dossiers/{code}/documents/{sha}", "off1")
        assert read.status_code == 503 and read.json["error"]["code"] == "document_key_mismatch", read.text
    finally:
        other.extensions["motcua"].store.close()


# A document write killed (SIGKILL, power cut) after its file is in place and before its row commits
# ("row"), or while its temporary file is written ("file"): this process dies at that moment.
KILLED_WRITE = """
import os, sys
from motcua.core.clock import FakeClock
from motcua.documents import Actor, Documents
folder, key, text, stage = sys.argv[1:]
class DiesBeforeTheRow:
    def write(self, change):
        os._exit(9)
if stage == "file":
    os.replace = lambda *paths: os._exit(9)
documents = Documents(DiesBeforeTheRow(), folder, key, 1 << 20, FakeClock(0))
scan = b"%PDF-1.4 " + text.encode() + b"\\n%%EOF"
documents.upload({"code": "X", "citizen_id": "001090012345", "status": "received"}, scan, "id_card",
                 Actor("staff:off1", "hk-01"))
"""


def killed_write(folder, text: str, stage: str) -> str:
    """Kill a write of a PDF holding text at that stage; the sha256 of its bytes."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(folder), KEY, text, stage], timeout=60)
    assert done.returncode == 9
    return hashlib.sha256(b"%PDF-1.4 " + text.encode() + b"\n%%EOF").hexdigest()


def test_the_files_of_killed_writes_are_removed_when_the_server_starts(config, clock, tokens, tmp_path):
    folder = tmp_path / "documents"
    settings = override(config, dossiers={"documents": str(folder), "document_key": KEY})
    app = create_app(settings, clock)
    code = new_dossier(app)
    kept = upload(Api(app.test_client(), tokens), code, pdf("giu lai")).json["sha256"]
    app.extensions["motcua"].store.close()
    orphan = killed_write(folder, "mo coi", "row")
    killed_write(folder, "dang ghi", "file")
    assert (folder / orphan[:2] / orphan).is_file() and list(folder.glob("*/.upload-*"))
    again = create_app(settings, clock)
    try:
        assert not (folder / orphan[:2] / orphan).exists() and not list(folder.glob("*/.upload-*"))
        assert Api(again.test_client(), tokens).get(f"/dossiers/{code}/documents/{kept}", "off1").status_code == 200
    finally:
        again.extensions["motcua"].store.close()


def test_documents_check_removes_orphans_names_damage_and_fails_until_it_is_repaired(doc_app, docs, config,
                                                                                     tmp_path):
    import subprocess
    import sys

    folder = doc_app.extensions["motcua"].documents.folder
    settings = tmp_path / "config.toml"
    settings.write_text(f'[dossiers]\ndocuments = "{folder}"\ndocument_key = "{KEY}"\n', encoding="utf-8")

    def check() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "motcua.cli", "documents", "check", "--config", str(settings),
                               "--db", config.server.db], capture_output=True, text=True, timeout=60)

    code = new_dossier(doc_app)
    good, bad = pdf("tot"), pdf("se hong")
    upload(docs, code, good)
    bad_sha = upload(docs, code, bad, kind="birth_notice").json["sha256"]
    orphan = killed_write(folder, "mo coi", "row")
    flip_a_bit(document_file(doc_app, bad_sha))
    found = check()
    assert found.returncode == 1, found.stderr
    assert f"removed {orphan[:2]}/{orphan}" in found.stdout
    assert f"damaged {bad_sha[:2]}/{bad_sha}" in found.stdout and code in found.stdout
    assert "2 documents: 1 intact, 1 damaged, 0 missing, 0 not opening with the key; 1 orphan removed" \
        in found.stdout
    assert not (folder / orphan[:2] / orphan).exists() and document_file(doc_app, bad_sha).exists()
    assert upload(docs, new_dossier(doc_app), bad).status_code == 201
    repaired = check()
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "2 documents: 2 intact, 0 damaged, 0 missing, 0 not opening with the key; 0 orphans removed" \
        in repaired.stdout


def test_another_officer_s_citizen_is_not_present_at_my_counter(doc_app, docs, scan_at_hk02):
    """Present means at this officer's own counter: a second officer of hk-01 gains nothing of hk-02's from a
    ticket the first officer called; once they take that counter over, the citizen is theirs to serve."""
    _, scan, sha = scan_at_hk02
    accounts = doc_app.extensions["motcua"].accounts
    accounts.add_user("off3", PASSWORD, "officer", "hk-01")
    other, _ = accounts.login("off3", PASSWORD)
    ticket = called_ticket(docs, doc_app)
    theirs = open_dossier(docs, who=other, ticket=ticket)
    refused = docs.post(f"/dossiers/{theirs}/documents", other, {"reuse": sha})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "citizen_not_present", refused.text
    took = docs.post(f"/branches/hk-01/counters/{civil_counter(doc_app, 'hk-01')}/take", other, {"take_over": True})
    assert took.status_code == 200, took.text
    reused = docs.post(f"/dossiers/{theirs}/documents", other, {"reuse": sha})
    assert reused.status_code == 201, reused.text


def test_by_default_the_documents_live_beside_the_database_not_in_the_working_folder(tmp_path, morning_template,
                                                                                     clock, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)   # the folder the server happens to be started from
    db = morning_template.copy_to(tmp_path / "city.db")
    config = load_config(server={"db": str(db), "async_mode": "threading"}, dossiers={"document_key": KEY})
    assert config.dossiers.documents == ""
    app = create_app(config, clock)
    try:
        assert app.extensions["motcua"].documents.folder == tmp_path / "city-documents"
    finally:
        app.extensions["motcua"].store.close()
    # Configured, it is where it is told.
    assert documents_folder(override(config, dossiers={"documents": str(tmp_path / "scans")}).dossiers,
                            db) == tmp_path / "scans"
