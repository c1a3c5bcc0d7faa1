"""Switchable faults, armed through the admin endpoint (``POST /sandbox/faults``), kept in memory.

Each fault is a JSON object with ``fault`` and its options; ``times`` (1) says for how many
calls it holds. ``operation`` is one of OPERATIONS (``any`` matches them all).

====================== ===================================================================
fault                  options and effect
====================== ===================================================================
``slow``               ``operation``, ``seconds``: the answer comes ``seconds`` late
``timeout``            ``operation``, ``when`` (``before``/``after`` processing), ``mode``
                       (``close``: the connection is closed without an answer; ``sleep``:
                       no answer for ``seconds``, past the client's read timeout, then closed)
``error``              ``operation``, ``when``, ``status`` (500-599): a 5xx answer
``bad_response``       ``operation``, ``kind``: the answer is signed wrongly (``signature``),
                       with a stale timestamp (``stale``) or another nonce (``nonce``)
``duplicate_notice``   the next notices are delivered twice (same notice id)
``notices_out_of_order`` ``count`` (2): the next ``count`` notices are held, then sent last first
``notice_first``       the next debit calls deliver their notices before they answer
``bad_notice``         ``kind`` (``signature``/``stale``): the next notices are signed wrongly
``statement_difference`` ``date``, ``kind`` (``missing``: a success left out; ``amount``: a
                       success with another amount; ``status``: a failure shown as a success;
                       ``unknown``: a success for an order number never sent), optional
                       ``order_no``: planted in that date's statement until cleared
====================== ===================================================================
"""

import threading

OPERATIONS = {
    "sign",
    "confirm",
    "signup_query",
    "unsign",
    "debit",
    "debit_batch",
    "query",
    "statement",
    "any",
}
KINDS = {
    "bad_response": {"signature", "stale", "nonce"},
    "bad_notice": {"signature", "stale"},
    "statement_difference": {"missing", "amount", "status", "unknown"},
}
FAULTS = {
    "slow",
    "timeout",
    "error",
    "bad_response",
    "duplicate_notice",
    "notices_out_of_order",
    "notice_first",
    "bad_notice",
    "statement_difference",
}


class FaultError(ValueError):
    pass


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._armed: list[dict] = []
        self.plants: dict[str, list[dict]] = {}  # settlement date -> planted differences
        self._reorder: dict | None = None

    def arm(self, spec: dict) -> dict:
        spec = _valid(spec)
        with self._lock:
            if spec["fault"] == "notices_out_of_order":
                self._reorder = {"count": spec["count"], "held": []}
            elif spec["fault"] == "statement_difference":
                self.plants.setdefault(spec["date"], []).append(spec)
            else:
                self._armed.append(spec)
        return spec

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()
            self.plants.clear()
            self._reorder = None

    def armed(self) -> list[dict]:
        with self._lock:
            return [dict(spec) for spec in self._armed]

    def take(self, fault: str, operation: str | None = None, when: str | None = None) -> dict | None:
        """The first armed ``fault`` for ``operation`` (and ``when``), used once."""
        with self._lock:
            for spec in self._armed:
                if spec["fault"] != fault:
                    continue
                if operation and spec.get("operation") not in (operation, "any"):
                    continue
                if when and spec.get("when") != when:
                    continue
                spec["times"] -= 1
                if spec["times"] <= 0:
                    self._armed.remove(spec)
                return spec
        return None

    def notice_faults(self) -> bool:
        """Whether any fault that changes how notices are queued is armed."""
        with self._lock:
            return self._reorder is not None or any(
                spec["fault"] == "duplicate_notice" for spec in self._armed
            )

    def reordering(self) -> bool:
        with self._lock:
            return self._reorder is not None

    def hold(self, row_id: int) -> list[int]:
        """Hold a notice while reordering; once ``count`` are held, the ids to release, last first."""
        with self._lock:
            self._reorder["held"].append(row_id)
            if len(self._reorder["held"]) < self._reorder["count"]:
                return []
            held, self._reorder = self._reorder["held"], None
            return held[::-1]


def _valid(spec) -> dict:
    if not isinstance(spec, dict) or spec.get("fault") not in FAULTS:
        raise FaultError(f"fault must be one of {sorted(FAULTS)}")
    fault = spec["fault"]
    spec = {"times": 1, **spec}
    if not isinstance(spec["times"], int) or spec["times"] < 1:
        raise FaultError("times must be a positive integer")
    if fault in {"slow", "timeout", "error", "bad_response"}:
        spec.setdefault("operation", "any")
        if spec["operation"] not in OPERATIONS:
            raise FaultError(f"operation must be one of {sorted(OPERATIONS)}")
    if fault in {"timeout", "error"}:
        spec.setdefault("when", "before")
        if spec["when"] not in ("before", "after"):
            raise FaultError("when must be before or after")
    if fault == "timeout":
        spec.setdefault("mode", "close")
        if spec["mode"] not in ("close", "sleep"):
            raise FaultError("mode must be close or sleep")
    if fault in {"slow", "timeout"}:
        spec.setdefault("seconds", 30 if fault == "timeout" else 2)
        if not isinstance(spec["seconds"], int | float) or not 0 <= spec["seconds"] <= 600:
            raise FaultError("seconds must be a number from 0 to 600")
    if fault == "error":
        spec.setdefault("status", 500)
        if spec["status"] not in range(500, 600):
            raise FaultError("status must be 500-599")
    if fault == "notices_out_of_order":
        spec.setdefault("count", 2)
        if not isinstance(spec["count"], int) or spec["count"] < 2:
            raise FaultError("count must be 2 or more")
    if fault in KINDS and spec.get("kind") not in KINDS[fault]:
        raise FaultError(f"kind must be one of {sorted(KINDS[fault])}")
    if fault == "statement_difference" and not isinstance(spec.get("date"), str):
        raise FaultError("date (YYYY-MM-DD) is needed")
    return spec
