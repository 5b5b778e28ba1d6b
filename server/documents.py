"""A dossier's documents: checked by their content, stored once by SHA-256, encrypted at rest, described in SQLite.

A document is PDF, JPEG or PNG whatever its name or declared type says: the bytes decide. Its file
is `{folder}/{sha[:2]}/{sha}`, the Fernet token of its bytes (cryptography's authenticated
encryption), written to a temporary file and renamed into place, so a reader never meets half a
file. The database rows follow the file in one transaction; a file whose rows fail is removed
again, so nothing half-written stays. Attaching a document and every read of one are events of the
dossier, chained with the others (motcua.audit).
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import sqlite3
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from PIL import Image

from motcua import audit
from motcua.core.dossiers import REJECTED, RETURNED, event_row
from motcua.core.model import Conflict, DomainError, Invalid, NotFound, StorageUnavailable

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
MIMES = (PDF, JPEG, PNG)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
JPEG_END = b"\xff\xd9"
# A PDF ends with %%EOF and a JPEG with its end marker, possibly followed by a line end, padding or a
# camera's own trailer: they are looked for in the last KiB.
TRAILER_BYTES = 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")
KIND = re.compile(r"^[a-z0-9_]{1,40}$")
KEY_ENV = "MOTCUA_DOCUMENT_KEY"
MIB = 1024 * 1024
log = logging.getLogger("motcua")
# Statuses after which a dossier takes no more documents.
CLOSED = (RETURNED, REJECTED)
# An image larger than this many pixels is refused rather than decoded (Pillow's bomb guard, made an error).
MAX_PIXELS = 100_000_000


class DocumentTooLarge(DomainError):
    code = "document_too_large"


class UnsupportedDocument(DomainError):
    code = "unsupported_document"


class CitizenNotPresent(DomainError):
    """A document the caller's branch does not hold, reused for a dossier whose citizen is not at its counter."""

    code = "citizen_not_present"


class DocumentKeyError(ValueError):
    """The configured document key is not a Fernet key."""


# A dossier as motcua.core.dossiers gives it: its row, of which code, citizen_id and status are read here.
DossierLike = Mapping[str, Any]


def sniff(data: bytes, max_bytes: int) -> str:
    """The MIME type of data by its content (PDF, JPEG, PNG); refuses empty, too large or anything else."""
    if not data:
        raise Invalid("the file is empty", "empty_document")
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"the file is larger than {max_bytes // MIB} MiB")
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-TRAILER_BYTES:]:
        return PDF
    if data.startswith(PNG_SIGNATURE) and _is_image(data, "PNG"):
        return PNG
    # Pillow's verify() checks a PNG's every chunk but not a JPEG's data: its end-of-image marker must be there.
    if data.startswith(JPEG_SIGNATURE) and JPEG_END in data[-TRAILER_BYTES:] and _is_image(data, "JPEG"):
        return JPEG
    raise UnsupportedDocument("only PDF, JPEG and PNG files are taken, judged by their content")


def _is_image(data: bytes, form: str) -> bool:
    """True when Pillow reads data as an intact image of that format, without decoding a pixel bomb."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[form]) as image:
                if image.width * image.height > MAX_PIXELS:
                    return False
                image.verify()
        return True
    except Exception:  # noqa: BLE001  (Pillow refuses a broken file with many kinds of error; each means "not this")
        return False


def cipher(keys: str) -> MultiFernet:
    """The cipher of the comma-separated Fernet keys: the first encrypts, any decrypts (so a key can be rotated)."""
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])
    except (ValueError, TypeError) as error:
        raise DocumentKeyError(f"the document key is not a Fernet key ({error}); "
                               "make one with: python -c 'from cryptography.fernet import Fernet; "
                               "print(Fernet.generate_key().decode())'") from None


def configured_key(configured: str) -> str:
    """The document key: MOTCUA_DOCUMENT_KEY when set, else the configuration's."""
    return os.environ.get(KEY_ENV) or configured


@dataclass(frozen=True)
class Actor:
    """Who acts on a document and where: an event's actor and branch."""

    name: str
    branch: str | None


class Documents:
    """The document folder and its rows: upload, reuse, list and read, each change one transaction."""

    def __init__(self, store, folder: str | Path, keys: str, max_bytes: int, clock) -> None:
        self.store = store
        self.folder = Path(folder)
        self.cipher = cipher(keys)
        self.max_bytes = max_bytes
        self.clock = clock
        # Uploads of one process take turns: a file another upload is about to point a row at is
        # never removed under it by one whose transaction failed.
        self._lock = threading.Lock()

    # ---- changes -----------------------------------------------------------------------------

    def upload(self, dossier: DossierLike, data: bytes, kind: str, actor: Actor) -> dict:
        """Check, store and attach data to the dossier as a document of that kind; the attachment row."""
        _open(dossier)
        if not KIND.match(kind or ""):
            raise Invalid("kind must be a document kind of the procedure, such as id_card", "bad_kind")
        mime = sniff(data, self.max_bytes)
        sha = hashlib.sha256(data).hexdigest()
        path = f"{sha[:2]}/{sha}"
        with self._lock:
            created = self._write_file(path, data)
            try:
                return self.store.write(lambda db: self._attach(db, dossier, sha, kind, actor, False, {
                    "sha256": sha, "kind": kind, "mime": mime, "size": len(data),
                    "citizen_id": dossier["citizen_id"], "created_at": self.clock.now(), "created_by": actor.name,
                    "path": path}))
            except BaseException:
                if created and not self._referenced(sha):
                    (self.folder / path).unlink(missing_ok=True)
                raise

    def reuse(self, dossier: DossierLike, sha: str, actor: Actor, kind: str | None = None,
              present: bool = False) -> dict:
        """Attach a document the dossier's citizen already has (found on another of their dossiers); the row.

        A document only other branches' dossiers hold is reused only when `present`: the citizen is at the
        actor's counter (motcua.core.dossiers.Dossiers.citizen_at_counter). Reuse never shows an officer a
        document their branch does not hold unless its owner stands before them; an admin, of no branch,
        sees every branch's already.
        """
        _open(dossier)
        found = self._citizens_document(dossier["citizen_id"], sha)
        if not (present or actor.branch is None or actor.branch in found["branches"]):
            raise CitizenNotPresent("a document digitised at another branch is reused only for the citizen being "
                                    "served at your counter: open the dossier from their ticket")
        return self.store.write(lambda db: self._attach(db, dossier, sha, kind or found["kind"], actor, True, None))

    def _attach(self, db, dossier: DossierLike, sha: str, kind: str, actor: Actor, reused: bool,
                document: dict | None) -> dict:
        if document is not None:
            # The same bytes sent before (for this citizen or another) are one document: its first row stays.
            db.execute("insert or ignore into documents (sha256, kind, mime, size, citizen_id, created_at, "
                       "created_by, path) values (:sha256, :kind, :mime, :size, :citizen_id, :created_at, "
                       ":created_by, :path)", document)
        # The status as this transaction sees it: a dossier closed since it was read takes nothing more.
        status = db.execute("select status from dossiers where code = ?", [dossier["code"]]).fetchone()
        dossier = {**dossier, "status": status[0] if status else dossier["status"]}
        _open(dossier)
        row = {"dossier": dossier["code"], "sha256": sha, "kind": kind, "reused": int(reused),
               "attached_at": self.clock.now(), "attached_by": actor.name}
        try:
            db["dossier_documents"].insert(row)
        except sqlite3.IntegrityError:
            raise Conflict("this document is already attached to the dossier", "duplicate_document") from None
        note = f"document_reused:{sha}" if reused else f"document_attached:{sha}"
        audit.append_events(db.conn, [self._event(dossier, actor, note)])
        return self._attachment(db, dossier["code"], sha)

    # ---- reads -------------------------------------------------------------------------------

    def of_dossier(self, code: str) -> list[dict]:
        """The documents attached to a dossier, in the order attached."""
        return self.store.read(lambda db: [_public(r) for r in db.query(
            f"{ATTACHED} where a.dossier = ? order by a.attached_at, a.rowid", [code])])

    def of_citizen(self, citizen_id: str) -> list[dict]:
        """Every document on any dossier of the citizen, once each, newest first: what may be reused. Its kind
        and when it was first attached for this citizen, never the dossiers it is on (other branches' codes)."""
        rows = self.store.query(
            "select d.sha256, d.mime, d.size, min(a.attached_at) as created_at, a.kind, "
            "max(a.attached_at) as last_attached_at "
            "from dossier_documents a join documents d on d.sha256 = a.sha256 "
            "join dossiers s on s.code = a.dossier where s.citizen_id = ? "
            "group by d.sha256, a.kind order by last_attached_at desc", [citizen_id])
        return [{k: r[k] for k in ("sha256", "kind", "mime", "size", "created_at")} for r in rows]

    def read(self, dossier: DossierLike, sha: str, actor: Actor) -> tuple[bytes, dict]:
        """The decrypted bytes of a document of the dossier and its row; the read is an event, committed first."""
        if not SHA256.match(sha):
            raise NotFound("no such document on this dossier", "unknown_document")
        rows = self.store.read(lambda db: list(db.query(f"{ATTACHED} where a.dossier = ? and a.sha256 = ?",
                                                         [dossier["code"], sha])))
        if not rows:
            raise NotFound("no such document on this dossier", "unknown_document")
        data = self._read_file(rows[0]["path"], sha)
        self.store.write(lambda db: audit.append_events(db.conn, [self._event(dossier, actor, f"document_read:{sha}")]))
        return data, _public(rows[0])

    # ---- the folder --------------------------------------------------------------------------

    def _write_file(self, path: str, data: bytes) -> bool:
        """Encrypt data into the folder at path unless it is there already; True when this call created it."""
        target = self.folder / path
        if target.exists():
            return False
        token = self.cipher.encrypt(data)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(token)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise StorageUnavailable(f"the document cannot be stored: {error.strerror}") from error
        return True

    def _read_file(self, path: str, sha: str) -> bytes:
        try:
            data = self.cipher.decrypt((self.folder / path).read_bytes())
        except OSError as error:
            raise StorageUnavailable(f"the document's file cannot be read: {error.strerror}") from error
        except InvalidToken:
            raise StorageUnavailable("the document's file does not open with the configured key",
                                     "document_key_mismatch") from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise StorageUnavailable("the document's file does not hold its content", "document_damaged")
        return data

    def _referenced(self, sha: str) -> bool:
        """True when a row names the document: its file must stay. A database that cannot say holds none of ours."""
        try:
            return bool(self.store.query("select 1 from documents where sha256 = ?", [sha]))
        except (sqlite3.Error, StorageUnavailable):
            return False

    def _citizens_document(self, citizen_id: str, sha: str) -> dict:
        """The kind the citizen's document last had and the branches whose dossiers of the citizen hold it."""
        rows = self.store.query(
            "select a.kind, s.branch, s.return_branch from dossier_documents a join dossiers s on s.code = a.dossier "
            "where a.sha256 = ? and s.citizen_id = ? order by a.attached_at desc", [sha, citizen_id])
        if not SHA256.match(sha or "") or not rows:
            raise NotFound("the citizen has no such document to reuse", "unknown_document")
        return {"kind": rows[0]["kind"], "branches": {b for r in rows for b in (r["branch"], r["return_branch"])}}

    def _event(self, dossier: DossierLike, actor: Actor, note: str) -> dict:
        # A document changes no status: the event names the dossier's, before and after alike (so the
        # public timeline, made of the changes, leaves it out).
        status = dossier["status"]
        return event_row(dossier["code"], status, status, self.clock.now(), actor.name, actor.branch, note)

    def _attachment(self, db, code: str, sha: str) -> dict:
        return _public(next(iter(db.query(f"{ATTACHED} where a.dossier = ? and a.sha256 = ?", [code, sha]))))


ATTACHED = ("select a.dossier, a.sha256, a.kind, a.reused, a.attached_at, a.attached_by, d.mime, d.size, d.path "
            "from dossier_documents a join documents d on d.sha256 = a.sha256")


def _public(row: dict) -> dict:
    """An attachment as the API gives it: no file path."""
    return {"sha256": row["sha256"], "kind": row["kind"], "mime": row["mime"], "size": row["size"],
            "reused": bool(row["reused"]), "attached_at": row["attached_at"], "attached_by": row["attached_by"]}


def _open(dossier: DossierLike) -> None:
    if dossier["status"] in CLOSED:
        raise Conflict(f"the dossier is {dossier['status']}: it takes no more documents", "dossier_closed")


def open_documents(settings, store, clock) -> Documents | None:
    """The documents part of a server from its [dossiers] settings; None (and logged) without a key."""
    keys = configured_key(settings.document_key)
    if not keys:
        # Personal documents are never kept in the clear: without a key the part stays off.
        log.warning("no document key ([dossiers] document_key or %s): documents are refused", KEY_ENV)
        return None
    return Documents(store, settings.documents, keys, int(settings.max_document_mib * MIB), clock)
