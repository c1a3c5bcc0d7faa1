"""The sandbox bank's books in its own SQLite file: accounts, sign-ups, agreements, debits, the
texts it sent, the notice queue and the nonces it has seen.

What it does is deterministic by the card's last 4 digits (the README's sandbox card table):

=========  ==========================================================================
last 4     behaviour
=========  ==========================================================================
``0002``   the four-element check fails (name, ID number, card, reserved phone)
``0069``   the card is closed: sign-up is refused
``9995``   debits fail with insufficient funds (retryable)
``0119``   debits fail hard: the bank ends the agreement (an ``agreement.ended`` notice)
other      everything succeeds (accounts open with 1,000,000.00)
=========  ==========================================================================

Like a real bank it knows a card by its number, but stores the number (and the ID number and
reserved phone) only as HMACs under a secret of its own data directory. Every write runs in one
``BEGIN IMMEDIATE`` transaction under a process lock; a batch of debits is one transaction with
``executemany``.
"""

import calendar
import contextlib
import csv
import hashlib
import hmac
import json
import secrets
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

FOUR_ELEMENTS_FAIL, CARD_CLOSED, INSUFFICIENT_FUNDS, HARD_FAIL = "0002", "0069", "9995", "0119"
OPENING_BALANCE_FEN = 100_000_000
CODE_SECONDS = 5 * 60
CODE_TRIES = 5
NONCE_SECONDS = 600
BEIJING = 8 * 3600

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY, card_hash TEXT NOT NULL UNIQUE, last4 TEXT NOT NULL,
    holder_hash TEXT NOT NULL, balance_fen INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'open',
    opened_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS signups (
    sign_id TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
    code_hash TEXT NOT NULL, expires_at REAL NOT NULL, wrong_tries INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending', agreement_no TEXT);
CREATE TABLE IF NOT EXISTS agreements (
    agreement_no TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
    status TEXT NOT NULL DEFAULT 'active', signed_at REAL NOT NULL, ended_at REAL,
    ended_by TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS debits (
    order_no TEXT PRIMARY KEY, agreement_no TEXT NOT NULL, amount_fen INTEGER NOT NULL,
    status TEXT NOT NULL, failure_code TEXT NOT NULL, retryable INTEGER NOT NULL,
    bank_ref TEXT NOT NULL, processed_at REAL NOT NULL, settle_date TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS debits_by_date ON debits (settle_date, processed_at, order_no);
CREATE TABLE IF NOT EXISTS sms (
    id INTEGER PRIMARY KEY, sign_id TEXT NOT NULL, phone_masked TEXT NOT NULL, last4 TEXT NOT NULL,
    code TEXT NOT NULL, text TEXT NOT NULL, sent_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY, notice_id TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL,
    order_no TEXT NOT NULL, -- a debit.result's body is made from its debit when it is sent
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL,
    created_at REAL NOT NULL, acknowledged_at REAL, last_error TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS notices_due ON notices (status, next_at, id);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, seen_at REAL NOT NULL);
"""

DEBIT_COLUMNS = (
    "order_no, agreement_no, amount_fen, status, failure_code, retryable, bank_ref, processed_at, settle_date"
)


SCHEMA_VERSION = 1
NOTICE_INSERT = (
    "INSERT INTO notices (notice_id, type, body, order_no, status, next_at, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
NOTICE_SELECT = (
    "SELECT n.id, n.notice_id, n.type, n.body, n.attempts, n.created_at, n.status, n.last_error, "
    "d.order_no, d.agreement_no, d.amount_fen, d.status, d.failure_code, d.retryable, d.bank_ref, "
    "d.processed_at, d.settle_date FROM notices n LEFT JOIN debits d ON d.order_no = n.order_no"
)
AGREEMENTS_WITH_ACCOUNTS = (
    "SELECT a.agreement_no, a.status, c.id, c.status, c.last4, c.balance_fen "
    "FROM agreements a JOIN accounts c ON c.id = a.account_id"
)


class BankRefusal(Exception):
    """An answer of PROTOCOL.md section 3: HTTP status, stable code, extra fields."""

    def __init__(self, status: int, code: str, message: str = "", **extra):
        super().__init__(code)
        self.status, self.code, self.message, self.extra = status, code, message or code, extra


def iso(ts: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)) if ts is not None else ""


def settle_date(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts + BEIJING))


def day_end(date: str) -> float:
    """The epoch second a settlement date (Beijing time) ends."""
    return calendar.timegm(time.strptime(date, "%Y-%m-%d")) - BEIJING + 86400


def mask_phone(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())[-11:]
    return f"{digits[:3]}****{digits[-4:]}"


def _marks(values) -> str:
    """Placeholders for ``IN (...)``: the values themselves are always bound parameters."""
    return ",".join("?" * len(values))


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _notice(notice_id: str, kind: str, created_at: str, data: dict) -> dict:
    return {"notice_id": notice_id, "type": kind, "created_at": created_at, "data": data}


def _result(row, stamp: str = "") -> dict:
    order_no, _agreement, amount, status, failure, retryable, ref, processed_at, settle = row
    return {
        "order_no": order_no,
        "status": status,
        "amount_fen": amount,
        "bank_ref": ref,
        "failure_code": failure,
        "retryable": bool(retryable),
        "processed_at": stamp or iso(processed_at),
        "settle_date": settle,
    }


class Bank:
    def __init__(self, path: Path, secret: bytes, faults):
        self.path, self.secret, self.faults = path, secret, faults
        self.clock_offset = 0.0  # the bank's clock against this machine's (POST /sandbox/clock)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._nonces_since_cleanup = 0
        with self._write_lock:
            db = self.db()
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise SystemExit(
                    f"{path} is from another version of the sandbox bank: remove its data directory"
                )
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def now(self) -> float:
        """The bank's time: what it signs, checks, dates debits and schedules notices by."""
        return time.time() + self.clock_offset

    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def write(self):
        """One write transaction (writers take turns; readers go on in WAL mode)."""
        db = self.db()
        with self._write_lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _hash(self, kind: str, value: str) -> str:
        return hmac.new(self.secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    # Replay protection

    def nonce_first_use(self, nonce: str, now: float) -> bool:
        with self.write() as db:
            fresh = db.execute("INSERT OR IGNORE INTO nonces VALUES (?, ?)", (nonce, now)).rowcount == 1
            self._nonces_since_cleanup += 1
            if self._nonces_since_cleanup >= 1000:
                db.execute("DELETE FROM nonces WHERE seen_at < ?", (now - NONCE_SECONDS,))
                self._nonces_since_cleanup = 0
        return fresh

    # Sign-up, confirm, unsign

    def sign_up(self, *, holder_name: str, id_number: str, card_number: str, reserved_phone: str, now: float):
        last4 = card_number[-4:]
        if last4 == FOUR_ELEMENTS_FAIL:
            raise BankRefusal(422, "four_elements", "the four elements do not match the bank's records")
        if last4 == CARD_CLOSED:
            raise BankRefusal(422, "card_closed", "the card is closed")
        holder = self._hash("holder", f"{holder_name}|{id_number.upper()}|{reserved_phone}")
        sign_id, code, masked = (
            f"s_{secrets.token_hex(16)}",
            f"{secrets.randbelow(10**6):06d}",
            mask_phone(reserved_phone),
        )
        with self.write() as db:
            card_hash = self._hash("card", card_number)
            row = db.execute(
                "SELECT id, holder_hash, status FROM accounts WHERE card_hash = ?", (card_hash,)
            ).fetchone()
            if row is None:
                account_id = db.execute(
                    "INSERT INTO accounts (card_hash, last4, holder_hash, balance_fen, opened_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (card_hash, last4, holder, OPENING_BALANCE_FEN, now),
                ).lastrowid
            elif not hmac.compare_digest(row[1], holder):
                raise BankRefusal(422, "four_elements", "the four elements do not match the bank's records")
            elif row[2] == "closed":
                raise BankRefusal(422, "card_closed", "the card is closed")
            else:
                account_id = row[0]
            db.execute(
                "INSERT INTO signups (sign_id, account_id, code_hash, expires_at) VALUES (?, ?, ?, ?)",
                (sign_id, account_id, self._hash(f"code:{sign_id}", code), now + CODE_SECONDS),
            )
            text = (
                f"【沙箱银行】您正在签约协议支付（尾号{last4}的卡），授权借贷平台自动扣款，验证码{code}，"
                f"5分钟内有效，请勿泄露。Sandbox Bank: code {code} for authorising automatic repayments "
                f"from card ending {last4}; valid 5 minutes."
            )
            db.execute(
                "INSERT INTO sms (sign_id, phone_masked, last4, code, text, sent_at) VALUES (?, ?, "
                "?, ?, ?, ?)",
                (sign_id, masked, last4, code, text, now),
            )
        return {"sign_id": sign_id, "expires_at": iso(now + CODE_SECONDS), "sms_to": masked}

    def confirm(self, *, sign_id: str, sms_code: str, now: float) -> dict:
        """The right code makes the agreement; a sign-up confirms once (a second confirm is
        ``not_pending``). The platform that lost this answer, or could not record it, finds the
        agreement by ``signup`` and ends it: the borrower starts again (PROTOCOL.md 4.4)."""
        refusal = None
        with self.write() as db:
            row = db.execute(
                "SELECT s.account_id, s.code_hash, s.expires_at, s.wrong_tries, s.status, a.last4 "
                "FROM signups s JOIN accounts a ON a.id = s.account_id WHERE s.sign_id = ?",
                (sign_id,),
            ).fetchone()
            if row is None or row[4] != "pending":
                raise BankRefusal(422, "not_pending", "the sign-up is no longer pending")
            account_id, code_hash, expires_at, wrong_tries, _status, last4 = row
            if now > expires_at:
                db.execute("UPDATE signups SET status = 'expired' WHERE sign_id = ?", (sign_id,))
                refusal = BankRefusal(422, "code_expired", "the bank's code has expired")
            elif not hmac.compare_digest(code_hash, self._hash(f"code:{sign_id}", sms_code)):
                wrong_tries += 1
                status = "failed" if wrong_tries >= CODE_TRIES else "pending"
                db.execute(
                    "UPDATE signups SET wrong_tries = ?, status = ? WHERE sign_id = ?",
                    (wrong_tries, status, sign_id),
                )
                refusal = BankRefusal(
                    422, "code_wrong", "the bank's code is wrong", tries_left=CODE_TRIES - wrong_tries
                )
            else:
                agreement_no = f"a_{secrets.token_hex(20)}"
                db.execute(
                    "INSERT INTO agreements (agreement_no, account_id, signed_at) VALUES (?, ?, ?)",
                    (agreement_no, account_id, now),
                )
                db.execute(
                    "UPDATE signups SET status = 'confirmed', agreement_no = ? WHERE sign_id = ?",
                    (agreement_no, sign_id),
                )
        if refusal:
            raise refusal
        return {"agreement_no": agreement_no, "status": "active", "card_last4": last4}

    def signup(self, sign_id: str, now: float) -> dict | None:
        """A sign-up's state and the agreement its confirm made, if any (PROTOCOL.md 4.4).

        A confirm answers once: the platform asks here when it lost or could not record that
        answer, and ends the agreement it finds (nothing else learns its number)."""
        row = (
            self.db()
            .execute(
                "SELECT s.status, s.expires_at, s.agreement_no, a.status FROM signups s "
                "LEFT JOIN agreements a ON a.agreement_no = s.agreement_no WHERE s.sign_id = ?",
                (sign_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        status, expires_at, agreement_no, agreement_status = row
        if status == "pending" and now > expires_at:
            status = "expired"
        return {
            "sign_id": sign_id,
            "status": status,
            "agreement_no": agreement_no or "",
            "agreement_status": agreement_status or "",
        }

    def end_agreement(self, *, agreement_no: str, by: str, now: float) -> dict:
        """Unsign (``merchant``) or the cardholder ending it at the bank (``cardholder``, notified)."""
        with self.write() as db:
            row = db.execute(
                "SELECT status, ended_at FROM agreements WHERE agreement_no = ?", (agreement_no,)
            ).fetchone()
            if row is None:
                raise BankRefusal(404, "agreement_unknown", "no such agreement")
            ended_at = row[1]
            if row[0] == "active":
                ended_at = now
                db.execute(
                    "UPDATE agreements SET status = 'ended', ended_at = ?, ended_by = ? WHERE "
                    "agreement_no = ?",
                    (now, by, agreement_no),
                )
                if by != "merchant":
                    data = {"agreement_no": agreement_no, "ended_at": iso(now), "ended_by": by}
                    self._notify(db, [("agreement.ended", data, "", "")], now)
        return {"agreement_no": agreement_no, "status": "ended", "ended_at": iso(ended_at)}

    def close_card(self, *, agreement_no: str, now: float) -> dict:
        """The bank closes the card behind ``agreement_no``: each of its active agreements ends."""
        with self.write() as db:
            row = db.execute(
                "SELECT a.account_id, c.last4 FROM agreements a JOIN accounts c ON c.id = a.account_id "
                "WHERE a.agreement_no = ?",
                (agreement_no,),
            ).fetchone()
            if row is None:
                raise BankRefusal(404, "agreement_unknown", "no such agreement")
            account_id, last4 = row
            ended = [
                no
                for (no,) in db.execute(
                    "SELECT agreement_no FROM agreements WHERE account_id = ? AND status = 'active' "
                    "ORDER BY signed_at",
                    (account_id,),
                )
            ]
            db.execute("UPDATE accounts SET status = 'closed' WHERE id = ?", (account_id,))
            db.execute(
                "UPDATE agreements SET status = 'ended', ended_at = ?, ended_by = 'card_closed' "
                "WHERE account_id = ? AND status = 'active'",
                (now, account_id),
            )
            notices = [
                ("card.closed", {"agreement_no": no, "card_last4": last4, "closed_at": iso(now)}, "", "")
                for no in ended
            ]
            self._notify(db, notices, now)
        return {"card_last4": last4, "agreements_ended": len(ended)}

    # Debits

    def debit_many(self, items: list[tuple[str, str, int]], now: float, *, inline_notices: bool = False):
        """Debit each (order_no, agreement_no, amount_fen) once per order number, in one transaction.

        Returns the results in the order given (an ``order_conflict`` error for an order number
        used with another agreement or amount) and the ids of the notices queued."""
        orders = list({order_no for order_no, _, _ in items})
        tokens = list({agreement_no for _, agreement_no, _ in items})
        with self.write() as db:
            query = f"SELECT {DEBIT_COLUMNS} FROM debits WHERE order_no IN ({_marks(orders)})"  # noqa: S608
            done = {row[0]: row for row in db.execute(query, orders)}
            agreements, accounts = {}, {}
            query = f"{AGREEMENTS_WITH_ACCOUNTS} WHERE a.agreement_no IN ({_marks(tokens)})"  # noqa: S608
            for agreement_no, status, account_id, account_status, last4, balance in db.execute(query, tokens):
                account = accounts.setdefault(account_id, [account_status, last4, balance, False])
                agreements[agreement_no] = [status, account]
            date, stamp, new, ended, results, fresh = settle_date(now), iso(now), [], [], [], {}
            batch = secrets.token_hex(8)  # bank references: random per batch, numbered within it
            for order_no, agreement_no, amount in items:
                row = done.get(order_no)
                if row is None:
                    failure = self._decide(agreements.get(agreement_no), amount)
                    if failure == "hard":
                        failure = "mandate_revoked"
                        ended.append(agreement_no)
                    status = "failed" if failure else "succeeded"
                    retryable = failure == "insufficient_funds"
                    ref = f"d_{batch}{len(new):08x}"
                    row = (order_no, agreement_no, amount, status, failure, int(retryable), ref, now, date)
                    done[order_no] = row
                    new.append(row)
                    fresh[order_no] = _result(row, stamp)
                elif row[1] != agreement_no or row[2] != amount:
                    results.append(
                        {
                            "order_no": order_no,
                            "error": {
                                "code": "order_conflict",
                                "message": "order number used with another debit",
                            },
                        }
                    )
                    continue
                results.append(fresh.get(order_no) or _result(row))
            db.executemany(f"INSERT INTO debits ({DEBIT_COLUMNS}) VALUES ({_marks(range(9))})", new)  # noqa: S608
            db.executemany(
                "UPDATE accounts SET balance_fen = ? WHERE id = ?",
                [(account[2], pk) for pk, account in accounts.items() if account[3]],
            )
            db.executemany(
                "UPDATE agreements SET status = 'ended', ended_at = ?, ended_by = 'bank' WHERE "
                "agreement_no = ?",
                [(now, agreement_no) for agreement_no in ended],
            )
            notices = [("debit.result", None, row[0], f"n_{row[6][2:]}") for row in new]
            notices += [
                ("agreement.ended", {"agreement_no": no, "ended_at": stamp, "ended_by": "bank"}, "", "")
                for no in ended
            ]
            notice_ids = self._notify(db, notices, now, inline=inline_notices)
        return results, notice_ids

    @staticmethod
    def _decide(agreement, amount: int) -> str:
        """The bank's rules for one debit: "" (and the money taken), a failure code, or "hard"."""
        if agreement is None:
            return "agreement_unknown"
        status, account = agreement
        if account[0] == "closed":
            return "card_closed"
        if status != "active":
            return "mandate_revoked"
        if account[1] == HARD_FAIL:
            agreement[0] = "ended"
            return "hard"
        if account[1] == INSUFFICIENT_FUNDS or account[2] < amount:
            return "insufficient_funds"
        account[2] -= amount
        account[3] = True
        return ""

    def query(self, order_no: str) -> dict | None:
        row = (
            self.db()
            .execute(f"SELECT {DEBIT_COLUMNS} FROM debits WHERE order_no = ?", (order_no,))  # noqa: S608
            .fetchone()
        )
        return _result(row) if row else None

    # Notices

    def _notify(self, db, notices: list[tuple], now: float, *, inline: bool = False) -> list[int]:
        """Queue (type, data, order number, notice id) in the current transaction; the faults may
        hold, reorder or double them. A debit result keeps no body: it is made when sent."""
        stamp, queued = iso(now), []
        for kind, data, order_no, notice_id in notices:
            notice_id = notice_id or f"n_{secrets.token_hex(16)}"
            body = "" if data is None else _dumps(_notice(notice_id, kind, stamp, data))
            queued.append((notice_id, kind, body, order_no, "pending", now, now))
        if not (inline or self.faults.notice_faults()):  # the usual case: one statement for all
            db.executemany(NOTICE_INSERT, queued)
            return []
        ids = []
        for notice_id, kind, body, order_no, *_ in queued:
            copies = 2 if self.faults.take("duplicate_notice") else 1
            for copy in range(copies):
                held = self.faults.reordering()
                status = "held" if held else "inline" if inline and copy == 0 else "pending"
                row = (notice_id, kind, body, order_no, status, now + copy * 0.001, now)
                row_id = db.execute(NOTICE_INSERT, row).lastrowid
                if status == "inline":
                    ids.append(row_id)
                if held:
                    release = self.faults.hold(row_id)
                    db.executemany(
                        "UPDATE notices SET status = 'pending', next_at = ? WHERE id = ?",
                        [(now + rank * 0.001, pk) for rank, pk in enumerate(release)],
                    )
        return ids

    def _notices(self, where: str, args) -> list[tuple]:
        """(id, notice id, body, tries, created at, status, type, last error) of the notices ``where``."""
        rows = self.db().execute(f"{NOTICE_SELECT} {where}", args)  # noqa: S608 - fixed clauses, bound values
        return [
            (
                pk,
                notice_id,
                body or _dumps(_notice(notice_id, kind, iso(created_at), _result(debit))),
                attempts,
                created_at,
                status,
                kind,
                error,
            )
            for pk, notice_id, kind, body, attempts, created_at, status, error, *debit in rows
        ]

    def due_notices(self, now: float, limit: int = 100) -> list[tuple]:
        where = "WHERE n.status = 'pending' AND n.next_at <= ? ORDER BY n.next_at, n.id LIMIT ?"
        return [row[:5] for row in self._notices(where, (now, limit))]

    def notices_by_id(self, ids: list[int]) -> list[tuple]:
        return [row[:5] for row in self._notices(f"WHERE n.id IN ({_marks(ids)}) ORDER BY n.id", ids)]

    def next_notice_at(self) -> float | None:
        return self.db().execute("SELECT MIN(next_at) FROM notices WHERE status = 'pending'").fetchone()[0]

    def notices_queue(self, ids: list[int]) -> None:
        """Notices kept back for delivery in the request that made them go to the queue."""
        with self.write() as db:
            db.executemany(
                "UPDATE notices SET status = 'pending' WHERE id = ? AND status = 'inline'",
                [(i,) for i in ids],
            )

    def notice_delivered(self, row_id: int, now: float) -> None:
        with self.write() as db:
            db.execute(
                "UPDATE notices SET status = 'acknowledged', attempts = attempts + 1, acknowledged_at = ?, "
                "last_error = '' WHERE id = ?",
                (now, row_id),
            )

    def notice_failed(self, row_id: int, error: str, next_at: float | None) -> None:
        """Not acknowledged: try again at ``next_at``, or give up (None)."""
        with self.write() as db:
            db.execute(
                "UPDATE notices SET status = ?, attempts = attempts + 1, next_at = COALESCE(?, next_at), "
                "last_error = ? WHERE id = ?",
                ("pending" if next_at is not None else "given_up", next_at, error[:200], row_id),
            )

    def notices(self, limit: int = 200) -> list[dict]:
        return [
            {
                "notice_id": notice_id,
                "type": kind,
                "status": status,
                "attempts": attempts,
                "data": json.loads(body)["data"],
                "last_error": error,
            }
            for _, notice_id, body, attempts, _, status, kind, error in self._notices(
                "ORDER BY n.id DESC LIMIT ?", (limit,)
            )
        ]

    # Statements

    def statement(self, date: str, plants: list[dict]) -> tuple[Path, str, int]:
        """That date's debits as CSV in a temporary file, with any planted differences; returns
        the file, its SHA-256 and its number of lines. Streams: memory stays flat."""
        plant = {p["kind"]: p["order_no"] for p in plants}
        rows = self.db().execute(
            "SELECT order_no, amount_fen, status, failure_code, bank_ref, processed_at FROM debits "
            "WHERE settle_date = ? ORDER BY processed_at, order_no",
            (date,),
        )
        return self._csv(
            ["order_no", "amount_fen", "status", "failure_code", "bank_ref", "processed_at"],
            self._planted(rows, plant, date),
        )

    @staticmethod
    def _planted(rows, plant: dict, date: str):
        for order_no, amount, status, failure, ref, processed_at in rows:
            if order_no == plant.get("missing"):
                continue
            if order_no == plant.get("amount"):
                amount += 100
            if order_no == plant.get("status"):
                status, failure = "succeeded", ""
            yield order_no, amount, status, failure, ref, iso(processed_at)
        if "unknown" in plant:
            yield (
                plant["unknown"],
                10000,
                "succeeded",
                "",
                f"d_{secrets.token_hex(12)}",
                iso(day_end(date) - 1),
            )

    def plant_target(self, date: str, kind: str) -> str:
        """The order number a planted difference of ``kind`` changes on ``date``."""
        if kind == "unknown":
            return f"never-sent-{secrets.token_hex(6)}"
        status = "failed" if kind == "status" else "succeeded"
        row = (
            self.db()
            .execute(
                "SELECT order_no FROM debits WHERE settle_date = ? AND status = ? ORDER BY "
                "processed_at, order_no LIMIT 1",
                (date, status),
            )
            .fetchone()
        )
        if row is None:
            raise BankRefusal(409, "nothing_to_plant", f"no {status} debit on {date}")
        return row[0]

    def agreement_statement(self, date: str) -> tuple[Path, str, int]:
        end = day_end(date)
        rows = self.db().execute(
            "SELECT a.agreement_no, a.ended_at, c.last4, a.signed_at, a.ended_by FROM agreements a "
            "JOIN accounts c ON c.id = a.account_id WHERE a.signed_at < ? ORDER BY a.signed_at, "
            "a.agreement_no",
            (end,),
        )
        lines = (
            (no, "ended", last4, iso(signed), iso(ended), by)
            if ended is not None and ended < end
            else (no, "active", last4, iso(signed), "", "")
            for no, ended, last4, signed, by in rows
        )
        return self._csv(["agreement_no", "status", "card_last4", "signed_at", "ended_at", "ended_by"], lines)

    def _csv(self, header: list[str], lines) -> tuple[Path, str, int]:
        digest, count = hashlib.sha256(), 0
        with tempfile.NamedTemporaryFile(
            "w", dir=self.path.parent, suffix=".csv", delete=False, newline="", encoding="utf-8"
        ) as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(header)
            for line in lines:
                writer.writerow(line)
                count += 1
        with open(out.name, "rb") as written:
            for block in iter(lambda: written.read(1 << 20), b""):
                digest.update(block)
        return Path(out.name), digest.hexdigest(), count

    # What the sandbox shows testers

    def texts(self, *, sign_id: str = "", limit: int = 50) -> list[dict]:
        where, args = ("WHERE sign_id = ?", [sign_id]) if sign_id else ("", [])
        rows = self.db().execute(
            f"SELECT sign_id, phone_masked, last4, code, text, sent_at FROM sms {where} "  # noqa: S608
            "ORDER BY id DESC LIMIT ?",
            [*args, limit],
        )
        return [
            {"sign_id": s, "phone_masked": p, "card_last4": l4, "code": c, "text": t, "sent_at": iso(at)}
            for s, p, l4, c, t, at in rows
        ]

    def expire_signup(self, sign_id: str) -> None:
        with self.write() as db:
            if not db.execute("UPDATE signups SET expires_at = 0 WHERE sign_id = ?", (sign_id,)).rowcount:
                raise BankRefusal(404, "not_found", "no such sign-up")

    def agreement(self, agreement_no: str) -> dict:
        row = (
            self.db()
            .execute(
                "SELECT a.status, a.ended_by, c.last4, c.status, c.balance_fen, "
                "(SELECT COUNT(*) FROM debits d WHERE d.agreement_no = a.agreement_no AND d.status = "
                "'succeeded'), "
                "(SELECT COALESCE(SUM(amount_fen), 0) FROM debits d "
                " WHERE d.agreement_no = a.agreement_no AND d.status = 'succeeded') "
                "FROM agreements a JOIN accounts c ON c.id = a.account_id WHERE a.agreement_no = ?",
                (agreement_no,),
            )
            .fetchone()
        )
        if row is None:
            raise BankRefusal(404, "agreement_unknown", "no such agreement")
        keys = ("status", "ended_by", "card_last4", "card_status", "balance_fen", "debits", "debited_fen")
        return dict(zip(keys, row, strict=True))

    def agreements(self, limit: int = 200) -> list[dict]:
        rows = self.db().execute(
            "SELECT a.agreement_no, a.status, a.ended_by, a.signed_at, c.last4, c.status FROM agreements a "
            "JOIN accounts c ON c.id = a.account_id ORDER BY a.signed_at DESC LIMIT ?",
            (limit,),
        )
        keys = ("agreement_no", "status", "ended_by", "signed_at", "card_last4", "card_status")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def debits(self, limit: int = 1000) -> list[dict]:
        """The debits the bank processed, oldest first: its own ledger, for tests and testers."""
        rows = self.db().execute(
            "SELECT order_no, agreement_no, amount_fen, status, failure_code, processed_at FROM debits "
            "ORDER BY processed_at, order_no LIMIT ?",
            (limit,),
        )
        keys = ("order_no", "agreement_no", "amount_fen", "status", "failure_code", "processed_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def reset(self) -> None:
        """Empty books (nonces are kept: a reset must not open replays)."""
        with self.write() as db:
            for table in ("notices", "sms", "debits", "signups", "agreements", "accounts"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - the table names above

    def seed(self, *, count: int, last4: str, balance_fen: int, now: float) -> list[str]:
        """``count`` accounts with one active agreement each, for benchmarks (no sign-up texts)."""
        numbers = [f"a_{secrets.token_hex(20)}" for _ in range(count)]
        with self.write() as db:
            first = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM accounts").fetchone()[0]
            db.executemany(
                "INSERT INTO accounts (id, card_hash, last4, holder_hash, balance_fen, opened_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(first + i, secrets.token_hex(32), last4, "seeded", balance_fen, now) for i in range(count)],
            )
            db.executemany(
                "INSERT INTO agreements (agreement_no, account_id, signed_at) VALUES (?, ?, ?)",
                [(no, first + i, now) for i, no in enumerate(numbers)],
            )
        return numbers
