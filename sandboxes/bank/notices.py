"""Sends the queued notices to the platform (PROTOCOL.md section 7) from a background thread.

The queue is the ``notices`` table, so a notice survives a restart of the bank. A notice is
done when the platform answers 2xx with ``{"notice_id": ..., "received": true}``; otherwise it
is sent again after ``first_retry`` seconds, the wait doubling up to an hour, for a day.
"""

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request

from sandboxes.bank import signing

log = logging.getLogger("sandboxes.bank.notices")

MAX_INTERVAL = 3600
GIVE_UP_AFTER = 24 * 3600


class NoticeSender(threading.Thread):
    def __init__(self, bank, private_key, faults, *, url: str, first_retry: float, timeout: float):
        super().__init__(name="notice-sender", daemon=True)
        self.bank, self.private_key, self.faults = bank, private_key, faults
        self.url, self.first_retry, self.timeout = url, first_retry, timeout
        self._wake = threading.Event()
        self._stop = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            sent = self.send_due() if self.url else 0
            if sent:
                continue
            next_at = self.bank.next_notice_at() if self.url else None
            wait = 1.0 if next_at is None else min(max(next_at - self.bank.now(), 0.01), 1.0)
            self._wake.wait(wait)

    def send_due(self) -> int:
        rows = self.bank.due_notices(self.bank.now())
        for row in rows:
            if self._stop.is_set():
                break
            self.deliver(row)
        return len(rows)

    def deliver_now(self, ids: list[int]) -> None:
        """Send these notices at once, in this thread (the fault "notice before the answer")."""
        if self.url:
            for row in self.bank.notices_by_id(ids):
                self.deliver(row)
        self.bank.notices_queue(ids)  # without a URL yet they wait in the queue like the others

    def deliver(self, row) -> bool:
        row_id, notice_id, body, attempts, created_at = row
        payload = body.encode()
        target = urllib.parse.urlsplit(self.url)
        path = target.path or "/"
        if target.query:
            path += "?" + target.query
        now = self.bank.now()
        bad = self.faults.take("bad_notice")
        headers = signing.headers(
            self.private_key,
            "POST",
            path,
            signing.digest(payload),
            now=now - 600 if bad and bad["kind"] == "stale" else now,
        )
        if bad and bad["kind"] == "signature":
            headers["X-Signature"] = signing.sign(self.private_key, b"not this notice")
        request = urllib.request.Request(  # noqa: S310 - the notice URL is the operator's, http(s) only
            self.url,
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", **headers},
        )
        error = ""
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = response.read(4096)
            acknowledged = json.loads(answer or b"null") == {"notice_id": notice_id, "received": True}
            error = "" if acknowledged else "answer is not the acknowledgement"
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            error = type(exc).__name__
        now = self.bank.now()
        if not error:
            self.bank.notice_delivered(row_id, now)
            return True
        wait = min(self.first_retry * 2**attempts, MAX_INTERVAL)
        give_up = now + wait - created_at > GIVE_UP_AFTER
        self.bank.notice_failed(row_id, error, None if give_up else now + wait)
        log.info(
            "notice %s not acknowledged (%s); %s", notice_id, error, "given up" if give_up else "will retry"
        )
        return False
