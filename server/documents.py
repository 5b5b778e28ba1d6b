"""A dossier's documents: checked by their content, stored once by SHA-256, encrypted at rest, described in SQLite.

A document is PDF, JPEG or PNG whatever its name or declared type says: the bytes decide. Its file
is `{folder}/{sha[:2]}/{sha}`, the Fernet token of its bytes (cryptography's authenticated
encryption), written to a temporary file and renamed into place, so a reader never meets half a
file. The database rows follow the file in one transaction; a file whose rows fail is removed
again, so nothing half-written stays. Attaching a document and every read of one are events of the
dossier, chained with the others (motcua.audit).

A file already in place is decrypted and hashed before it is kept for an upload of the same bytes:
a damaged one is written anew. The row keeps the SHA-256 of the file as stored, which tells a
damaged file from one under another key. A process killed between a file and its row leaves a file
no row names: `sweep` removes those (at start, and `motcua documents check`), once no write of any
process is under way, which every write says with a shared lock on the folder's `.writing` file.
Each write leaves a mark in `.pending` until its row commits: a start looks only at the documents
the marks of dead writes name, never at the whole folder (a year of documents), which `motcua
documents check` does.
"""
from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import io
import logging
import os
import re
import sqlite3
import tempfile
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Container, Iterator, Mapping

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
# In the documents folder: the lock every write holds shared, the prefix of a file being written, and
# the folder of marks, one per write under way, named for its document (what a start sweeps).
WRITING = ".writing"
TEMPORARY = ".upload-"
PENDING = ".pending"
# A Fernet token: version 0x80, 8 bytes of time, 16 of IV, the ciphertext in 16-byte blocks, 32 of HMAC.
FERNET_VERSION, FERNET_OVERHEAD, FERNET_BLOCK = 0x80, 1 + 8 + 16 + 32, 16


class DocumentTooLarge(DomainError):
    code = "document_too_large"

    def __init__(self, max_bytes: int) -> None:
        # The limit in the details: the officer's page says it in the officer's language.
        super().__init__(f"the file is larger than {max_bytes / MIB:g} MiB",
                         details={"max_mib": round(max_bytes / MIB, 2)})


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
        raise DocumentTooLarge(max_bytes)
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


def documents_folder(settings, db: str | Path) -> Path:
    """Where a server's documents live: the configured folder, else beside its database
    (motcua.db: motcua-documents), so that they go where the database goes, whatever folder
    the server was started from."""
    return Path(settings.documents) if settings.documents else documents_beside(db)


def documents_beside(db: str | Path) -> Path:
    """The documents folder beside a database: motcua.db, motcua-documents."""
    db = Path(db)
    return db.with_name(db.stem + "-documents")


def configured_key(configured: str) -> str:
    """The document key: MOTCUA_DOCUMENT_KEY when set, else the configuration's."""
    return os.environ.get(KEY_ENV) or configured


def key_file(db: str | Path) -> Path:
    """The key file beside a database ({db}.key), read when no key is configured: the demo's."""
    return Path(f"{db}.key")


def write_key_file(path: Path, key: str) -> None:
    """A new key file only its owner reads (0600)."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
        out.write(key + "\n")


def document_keys(settings, db: str | Path) -> str:
    """The document key(s): MOTCUA_DOCUMENT_KEY, else [dossiers] document_key, else the key file beside
    the database; empty if none."""
    configured = configured_key(settings.document_key)
    if configured:
        return configured
    path = key_file(db)
    if not path.is_file():
        return ""
    log.info("document key read from %s (no key configured)", path)
    return path.read_text(encoding="utf-8").strip()


@dataclass
class Checked:
    """What `Documents.check` found: the orphans removed (None: a write was under way, none looked for), and
    each document's row (sha256, path, dossiers) by what its file holds."""

    removed: list[str] | None
    intact: list[dict] = field(default_factory=list)
    damaged: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    key_mismatch: list[dict] = field(default_factory=list)


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

    def upload(self, dossier: DossierLike, data: bytes, kind: str, actor: Actor, only_while: str | None = None) -> dict:
        """Check, store and attach data to the dossier as a document of that kind; the attachment row. only_while:
        the status the dossier must still have when the row is written (409 no_supplement_asked otherwise)."""
        _open(dossier)
        if not KIND.match(kind or ""):
            raise Invalid("kind must be a document kind of the procedure, such as id_card", "bad_kind")
        mime = sniff(data, self.max_bytes)
        sha = hashlib.sha256(data).hexdigest()
        path = f"{sha[:2]}/{sha}"
        with self._lock, self._writing(sha):
            created, stored = self._write_file(path, data, sha)
            try:
                return self.store.write(lambda db: self._attach(db, dossier, sha, kind, actor, False, {
                    "sha256": sha, "kind": kind, "mime": mime, "size": len(data),
                    "citizen_id": dossier["citizen_id"], "created_at": self.clock.now(), "created_by": actor.name,
                    "path": path, "file_sha256": stored}, only_while))
            except BaseException:
                if created:
                    self._settle(sha, path, stored)
                raise

    def reuse(self, dossier: DossierLike, sha: str, actor: Actor, kind: str | None = None,
              present: bool = False, reusable: Container[str] | None = None, only_while: str | None = None,
              needed: Container[str] | None = None) -> dict:
        """Attach a document the dossier's citizen already has (found on another of their dossiers); the row.

        `reusable`: the document kinds a copy of which may serve another dossier (the catalogue's); a
        document of another kind, or reused as one, is refused with 409 not_reusable (an application form
        is filled in for one dossier). None: every kind.

        `needed`: the kinds the dossier asks for (motcua.core.intake.needed_kinds); reusing it as another kind is
        refused with 409 not_required, as a citizen's papers go into a dossier only as it needs them. None: any.

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
        refused = [k for k in dict.fromkeys((found["kind"], kind or found["kind"]))
                   if reusable is not None and k not in reusable]
        if refused:
            raise Conflict(f"a document of kind {refused[0]} serves one dossier only: scan the new one",
                           "not_reusable")
        if needed is not None and (kind or found["kind"]) not in needed:
            raise Conflict(f"the dossier does not ask for a document of kind {kind or found['kind']}",
                           "not_required")
        return self.store.write(lambda db: self._attach(db, dossier, sha, kind or found["kind"], actor, True, None,
                                                        only_while))

    def _attach(self, db, dossier: DossierLike, sha: str, kind: str, actor: Actor, reused: bool,
                document: dict | None, only_while: str | None = None) -> dict:
        if document is not None:
            # The same bytes sent before (for this citizen or another) are one document: its first row stays.
            db.execute("insert or ignore into documents (sha256, kind, mime, size, citizen_id, created_at, "
                       "created_by, path) values (:sha256, :kind, :mime, :size, :citizen_id, :created_at, "
                       ":created_by, :path)", document)
            # The file as this upload left it: checked and kept, or written anew over a damaged one.
            db.execute("update documents set file_sha256 = :file_sha256 where sha256 = :sha256", document)
        # The status as this transaction sees it: a dossier closed since it was read takes nothing more.
        status = db.execute("select status from dossiers where code = ?", [dossier["code"]]).fetchone()
        dossier = {**dossier, "status": status[0] if status else dossier["status"]}
        _open(dossier)
        if only_while is not None and dossier["status"] != only_while:
            raise Conflict(f"the dossier is {dossier['status']}: it waits for no supplement now", "no_supplement_asked")
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
        data = self._read_file(rows[0]["path"], sha, rows[0]["file_sha256"])
        self.store.write(lambda db: audit.append_events(db.conn, [self._event(dossier, actor, f"document_read:{sha}")]))
        return data, _public(rows[0])

    # ---- the folder --------------------------------------------------------------------------

    def sweep(self, everything: bool = False) -> list[str] | None:
        """Remove the files no row names, left by writes killed before their row committed: their paths.
        Only the documents of writes whose mark is left are looked at, so that a start takes as long over
        a year of documents as over a day's; `everything` (and a folder of before, which has no marks)
        looks at every file. None when a write of some process is under way: then nothing is removed."""
        if not self.folder.is_dir():
            return []
        pending = self.folder / PENDING
        with open(self.folder / WRITING, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            if everything or not pending.is_dir():
                removed = self._orphans(sorted(self.folder.glob("*/*")),
                                        {row["sha256"] for row in self.store.query("select sha256 from documents")})
                pending.mkdir(exist_ok=True)
                return removed
            # No write is under way (the lock): every mark is that of a write that died.
            marks = sorted(pending.iterdir())
            shas = {mark.name[:64] for mark in marks if SHA256.match(mark.name[:64])}
            paths = sorted({path for sha in shas for path in (self.folder / sha[:2]).glob(f"{TEMPORARY}*")}
                           | {self.folder / sha[:2] / sha for sha in shas})
            named = {sha for sha in shas if self.store.query("select 1 from documents where sha256 = ?", [sha])}
            removed = self._orphans(paths, named)
            for mark in marks:
                mark.unlink(missing_ok=True)
            return removed

    def _orphans(self, paths: list[Path], named: set[str]) -> list[str]:
        """Remove, of the paths, the temporary files and the documents' files no row names; their paths."""
        removed = []
        for path in paths:
            orphan = path.name.startswith(TEMPORARY) or (
                SHA256.match(path.name) and path.parent.name == path.name[:2] and path.name not in named)
            if orphan and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path.relative_to(self.folder).as_posix())
        return removed

    def check(self) -> Checked:
        """Sweep the orphans, then open every document's file and hash what it holds."""
        found = Checked(self.sweep(everything=True))
        rows = self.store.query(
            "select d.sha256, d.path, d.file_sha256, group_concat(a.dossier, ' ') as dossiers from documents d "
            "left join dossier_documents a on a.sha256 = d.sha256 group by d.sha256 order by d.path")
        for row in rows:
            try:
                self._read_file(row["path"], row["sha256"], row["file_sha256"])
                found.intact.append(row)
            except StorageUnavailable as refused:
                {"document_damaged": found.damaged, "document_key_mismatch": found.key_mismatch}.get(
                    refused.code, found.missing).append(row)
        return found

    def _write_file(self, path: str, data: bytes, sha: str) -> tuple[bool, str]:
        """Encrypt data into the folder at path unless an intact file of it is there already: whether this
        call wrote the file, and the SHA-256 of the file as it now stands."""
        target = self.folder / path
        if target.exists():
            try:
                kept = target.read_bytes()
                self._decrypt(kept, sha, None)
                return False, hashlib.sha256(kept).hexdigest()
            except (OSError, StorageUnavailable):
                log.warning("document file %s did not open to its content: written again from an upload", path)
        token = self.cipher.encrypt(data)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=TEMPORARY)
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
        return True, hashlib.sha256(token).hexdigest()

    def _read_file(self, path: str, sha: str, stored: str | None) -> bytes:
        try:
            token = (self.folder / path).read_bytes()
        except OSError as error:
            raise StorageUnavailable(f"the document's file cannot be read: {error.strerror}") from error
        return self._decrypt(token, sha, stored)

    def _decrypt(self, token: bytes, sha: str, stored: str | None) -> bytes:
        """The bytes the file holds when they hash to sha; StorageUnavailable document_damaged or
        document_key_mismatch otherwise. stored: the SHA-256 of the file as written (None for a row of before)."""
        try:
            data = self.cipher.decrypt(token)
        except InvalidToken:
            if _damaged_at_rest(token, stored):
                raise StorageUnavailable("the document's file is damaged", "document_damaged") from None
            raise StorageUnavailable("the document's file does not open with the configured key",
                                     "document_key_mismatch") from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise StorageUnavailable("the document's file does not hold its content", "document_damaged")
        return data

    @contextmanager
    def _writing(self, sha: str) -> Iterator[None]:
        """The shared lock on the folder's `.writing` file and the write's mark in `.pending`, from a
        file's write to its row's commit (a mark left behind names a write that died)."""
        try:
            (self.folder / PENDING).mkdir(parents=True, exist_ok=True)
            lock = open(self.folder / WRITING, "a")
        except OSError as error:
            raise StorageUnavailable(f"the document cannot be stored: {error.strerror}") from error
        with lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            try:
                handle, mark = tempfile.mkstemp(dir=self.folder / PENDING, prefix=f"{sha}.")
                os.close(handle)
            except OSError as error:
                raise StorageUnavailable(f"the document cannot be stored: {error.strerror}") from error
            try:
                yield
            finally:
                Path(mark).unlink(missing_ok=True)

    def _settle(self, sha: str, path: str, stored: str) -> None:
        """After a failed attach, the file this upload wrote: removed when no row names it, else (a damaged
        file written anew) recorded as it now stands."""
        if not self._referenced(sha):
            (self.folder / path).unlink(missing_ok=True)
            return
        try:
            self.store.write(lambda db: db.execute("update documents set file_sha256 = ? where sha256 = ?",
                                                   [stored, sha]))
        except (sqlite3.Error, StorageUnavailable):
            log.warning("document file %s was written anew; its row still names the file before", path)

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


ATTACHED = ("select a.dossier, a.sha256, a.kind, a.reused, a.attached_at, a.attached_by, d.mime, d.size, d.path, "
            "d.file_sha256 "
            "from dossier_documents a join documents d on d.sha256 = a.sha256")


def _public(row: dict) -> dict:
    """An attachment as the API gives it: no file path."""
    return {"sha256": row["sha256"], "kind": row["kind"], "mime": row["mime"], "size": row["size"],
            "reused": bool(row["reused"]), "attached_at": row["attached_at"], "attached_by": row["attached_by"]}


def _damaged_at_rest(token: bytes, stored: str | None) -> bool:
    """True when a file that does not open is no longer what was written: its SHA-256 differs from the
    row's, or (a row of before that kept none) it is not even the shape of a Fernet token."""
    if stored is not None:
        return hashlib.sha256(token).hexdigest() != stored
    try:
        raw = base64.b64decode(token, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return True
    return (len(raw) < FERNET_OVERHEAD + FERNET_BLOCK or raw[0] != FERNET_VERSION
            or (len(raw) - FERNET_OVERHEAD) % FERNET_BLOCK != 0)


def _open(dossier: DossierLike) -> None:
    if dossier["status"] in CLOSED:
        raise Conflict(f"the dossier is {dossier['status']}: it takes no more documents", "dossier_closed")


def open_documents(settings, store, clock, sweep: bool = True) -> Documents | None:
    """The documents part of a server from its [dossiers] settings, its folder swept of orphans unless told
    not to; None (and logged) without a key."""
    keys = document_keys(settings, store.path)
    if not keys:
        # Personal documents are never kept in the clear: without a key the part stays off.
        log.warning("no document key ([dossiers] document_key, %s or %s): documents are refused", KEY_ENV,
                    key_file(store.path))
        return None
    documents = Documents(store, documents_folder(settings, store.path), keys, int(settings.max_document_mib * MIB),
                          clock)
    if sweep:
        try:
            removed = documents.sweep()
        except OSError as error:   # a folder that cannot be swept now is swept at the next start
            log.warning("the documents folder was not swept: %s", error)
        else:
            if removed:
                log.warning("removed %d document file(s) of writes that never committed: %s", len(removed),
                            ", ".join(removed))
    return documents
