"""The sandbox bank's books without HTTP: batches, statements, the notice queue's retries."""

import csv
import hashlib
import io
import json
import time

import pytest

from sandboxes.bank.faults import Faults
from sandboxes.bank.notices import MAX_INTERVAL, NoticeSender
from sandboxes.bank.signing import generate_pair, load_private_key
from sandboxes.bank.store import Bank, settle_date


@pytest.fixture
def bank(tmp_path):
    return Bank(tmp_path / "bank.sqlite3", b"secret", Faults())


def lines(bank, date, plants=()):
    path, sha256, count = bank.statement(date, list(plants))
    content = path.read_bytes()
    path.unlink()
    assert hashlib.sha256(content).hexdigest() == sha256
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert len(rows) == count
    return {row["order_no"]: row for row in rows}


def test_a_batch_debits_each_order_number_once_and_refuses_a_conflicting_reuse(bank):
    now = time.time()
    good, poor = bank.seed(count=1, last4="1234", balance_fen=1000, now=now) + bank.seed(
        count=1, last4="9995", balance_fen=1000, now=now
    )
    results, _ = bank.debit_many([("a", good, 600), ("a", good, 600), ("b", good, 600), ("c", poor, 1)], now)
    assert [r["status"] for r in results] == ["succeeded", "succeeded", "failed", "failed"]
    assert results[0] == results[1]  # the same order number in one batch: one debit
    assert (results[2]["failure_code"], results[2]["retryable"]) == ("insufficient_funds", True)
    again, _ = bank.debit_many([("a", good, 600), ("a", good, 601)], now)
    assert again[0] == results[0] and again[1]["error"]["code"] == "order_conflict"
    assert bank.agreement(good)["balance_fen"] == 400 and bank.agreement(good)["debits"] == 1


def test_the_statement_lists_each_debit_of_the_date_and_plants_each_difference_where_it_says(bank):
    now = time.time()
    good, poor = bank.seed(count=1, last4="1234", balance_fen=10**6, now=now) + bank.seed(
        count=1, last4="9995", balance_fen=10**6, now=now
    )
    bank.debit_many([("s1", good, 100), ("s2", good, 200), ("f1", poor, 300)], now)
    date = settle_date(now)
    clean = lines(bank, date)
    assert {k: (v["amount_fen"], v["status"]) for k, v in clean.items()} == {
        "s1": ("100", "succeeded"),
        "s2": ("200", "succeeded"),
        "f1": ("300", "failed"),
    }
    plants = [
        {"kind": kind, "order_no": bank.plant_target(date, kind)} for kind in ("missing", "amount", "status")
    ]
    plants.append({"kind": "unknown", "order_no": bank.plant_target(date, "unknown")})
    assert [p["order_no"] for p in plants[:3]] == ["s1", "s1", "f1"]
    planted = lines(bank, date, plants[1:])
    assert planted["s1"]["amount_fen"] == "200" and planted["f1"]["status"] == "succeeded"
    assert planted[plants[3]["order_no"]]["status"] == "succeeded" and len(planted) == 4
    assert "s1" not in lines(bank, date, plants[:1])
    assert lines(bank, "2000-01-01") == {}


def test_a_notice_not_acknowledged_waits_twice_as_long_each_time_and_is_given_up_after_a_day(bank, tmp_path):
    generate_pair(tmp_path / "k.pem", tmp_path / "k.pub")
    sender = NoticeSender(
        bank,
        load_private_key(tmp_path / "k.pem"),
        bank.faults,
        url="http://127.0.0.1:9/",
        first_retry=5,
        timeout=1,
    )
    token = bank.seed(count=1, last4="1234", balance_fen=10**6, now=time.time())[0]
    bank.debit_many([("k", token, 1)], time.time())
    waits = []
    for _ in range(3):
        [row] = bank.notices_by_id([1])
        assert json.loads(row[2])["data"]["order_no"] == "k"
        assert not sender.deliver(row)
        waits.append(bank.db().execute("SELECT next_at FROM notices").fetchone()[0] - time.time())
    assert [round(wait) for wait in waits] == [5, 10, 20]
    bank.db().execute("UPDATE notices SET created_at = created_at - 86400, attempts = 20")
    assert not sender.deliver(bank.notices_by_id([1])[0])
    [notice] = bank.notices()
    assert notice["status"] == "given_up" and notice["last_error"] and MAX_INTERVAL == 3600
