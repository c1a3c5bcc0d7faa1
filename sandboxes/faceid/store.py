"""The simulator's own SQLite: liveness sessions and a log of the calls it answered.

It keeps no name, no full ID or phone number and no image: a liveness session holds the
outcome chosen when it began and whether a frame was taken; the call log masks numbers.
"""

import secrets
import sqlite3
import threading
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS liveness (
    biz_token TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL,
    redirect_url TEXT NOT NULL,
    similarity REAL NOT NULL,
    created_at REAL NOT NULL,
    finished_at REAL,
    frame_source TEXT
);
CREATE TABLE IF NOT EXISTS calls (
    request_id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    id_masked TEXT NOT NULL,
    result TEXT NOT NULL,
    at REAL NOT NULL
);
"""
TOKEN_SECONDS = 7200  # FaceID's BizToken lives two hours


def mask(number: str) -> str:
    number = number or ""
    return (
        f"{number[:3]}{'*' * max(len(number) - 7, 0)}{number[-4:]}" if len(number) > 7 else "*" * len(number)
    )


def new_request_id() -> str:
    return f"sbx-{secrets.token_hex(16)}"


class Store:
    def __init__(self, path):
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.lock = threading.Lock()
        self.reset_at = 0.0
        with self.lock:
            self.db.executescript(SCHEMA)

    def call_log(self, request_id: str, action: str, id_number: str, result: str, *, arrived: float) -> None:
        """Log a call, unless it arrived before the last reset: a slow answer finishing late
        belongs to the log that was cleared, not to the next one."""
        with self.lock:
            if arrived < self.reset_at:
                return
            self.db.execute(
                "INSERT INTO calls VALUES (?, ?, ?, ?, ?)",
                (request_id, action, mask(id_number), result, time.time()),
            )

    def calls(self) -> list[dict]:
        with self.lock:
            rows = self.db.execute(
                "SELECT request_id, action, id_masked, result, at FROM calls ORDER BY at"
            ).fetchall()
        return [
            dict(zip(("request_id", "action", "id_masked", "result", "at"), row, strict=True)) for row in rows
        ]

    def liveness_create(self, *, rule_id: str, redirect_url: str, similarity: float) -> str:
        token = secrets.token_hex(16).upper()
        with self.lock:
            self.db.execute(
                "INSERT INTO liveness VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                (token, rule_id, redirect_url, similarity, time.time()),
            )
        return token

    def liveness(self, token: str) -> dict | None:
        with self.lock:
            row = self.db.execute(
                "SELECT biz_token, rule_id, redirect_url, similarity, created_at, finished_at, frame_source "
                "FROM liveness WHERE biz_token = ?",
                (token,),
            ).fetchone()
        if row is None:
            return None
        keys = (
            "biz_token",
            "rule_id",
            "redirect_url",
            "similarity",
            "created_at",
            "finished_at",
            "frame_source",
        )
        session = dict(zip(keys, row, strict=True))
        session["expired"] = time.time() - session["created_at"] > TOKEN_SECONDS
        return session

    def liveness_finish(self, token: str, frame_source: str) -> bool:
        """Record that the borrower went through the page (only how the frame was taken)."""
        with self.lock:
            cursor = self.db.execute(
                "UPDATE liveness SET finished_at = ?, frame_source = ?"
                " WHERE biz_token = ? AND finished_at IS NULL",
                (time.time(), frame_source, token),
            )
        return cursor.rowcount == 1

    def reset(self) -> None:
        with self.lock:
            self.reset_at = time.time()
            self.db.execute("DELETE FROM liveness")
            self.db.execute("DELETE FROM calls")
