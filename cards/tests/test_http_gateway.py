"""Contract tests: HttpBankGateway against the sandbox bank running as its own server
(sandboxes/bank/PROTOCOL.md), the bank's side checked through its own admin endpoints."""

import json
import re
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from cards import bank_protocol
from cards.gateways.base import BindRefused, DebitRequest, GatewayUnavailable
from cards.gateways.http import BankAnswerRefused, HttpBankGateway
from cards.tests import sandbox_cards
from conftest import wait_until
from tests.bank_server import key_pair

HOLDER = {"holder_name": "张三", "id_number": "110105199003071239", "reserved_phone": "+8613800138000"}
OPENING = 100_000_000  # fen


def bound(bank, card=sandbox_cards.GOOD_DEBIT) -> str:
    gateway = HttpBankGateway()
    reference = gateway.bind_start(card_number=card, **HOLDER)
    return gateway.bind_confirm(reference=reference, code=bank.code(reference))


def debit(token, key, amount="100.50"):
    return HttpBankGateway().debit(token=token, amount=Decimal(amount), idempotency_key=key)


# Sign-up


def test_binding_texts_the_banks_code_to_the_reserved_phone_and_confirming_returns_an_agreement(http_bank):
    gateway = HttpBankGateway()
    reference = gateway.bind_start(card_number=sandbox_cards.GOOD_DEBIT, **HOLDER)
    [text] = http_bank.texts(reference)
    assert (text["phone_masked"], text["card_last4"]) == ("138****8000", "1234")
    assert "13800138000" not in json.dumps(text) and sandbox_cards.GOOD_DEBIT not in json.dumps(text)
    token = gateway.bind_confirm(reference=reference, code=text["code"])
    assert http_bank.agreement(token)["status"] == "active"
    with pytest.raises(BindRefused) as refused:
        gateway.bind_confirm(reference=reference, code=text["code"])  # once
    assert refused.value.code == "not_pending"


@pytest.mark.parametrize(
    "card, code",
    [(sandbox_cards.FOUR_ELEMENTS_FAIL, "four_elements"), (sandbox_cards.CARD_CLOSED, "card_closed")],
)
def test_refused_cards_get_no_text(http_bank, card, code):
    with pytest.raises(BindRefused) as refused:
        HttpBankGateway().bind_start(card_number=card, **HOLDER)
    assert refused.value.code == code and card not in str(refused.value)
    assert http_bank.texts() == []


def test_another_holder_on_a_known_card_fails_the_four_element_check(http_bank):
    bound(http_bank)
    with pytest.raises(BindRefused) as refused:
        HttpBankGateway().bind_start(
            card_number=sandbox_cards.GOOD_DEBIT, **{**HOLDER, "holder_name": "李四"}
        )
    assert refused.value.code == "four_elements"


def test_five_wrong_codes_end_the_sign_up_and_an_expired_code_is_refused(http_bank):
    gateway = HttpBankGateway()
    reference = gateway.bind_start(card_number=sandbox_cards.GOOD_DEBIT, **HOLDER)
    code = http_bank.code(reference)
    for _ in range(5):
        with pytest.raises(BindRefused) as refused:
            gateway.bind_confirm(reference=reference, code=f"{(int(code) + 1) % 10**6:06d}")
        assert refused.value.code == "code_wrong"
    with pytest.raises(BindRefused) as refused:
        gateway.bind_confirm(reference=reference, code=code)
    assert refused.value.code == "not_pending"

    reference = gateway.bind_start(card_number=sandbox_cards.GOOD_DEBIT, **HOLDER)
    http_bank.admin("POST", f"/sandbox/signups/{reference}/expire")
    with pytest.raises(BindRefused) as refused:
        gateway.bind_confirm(reference=reference, code=http_bank.code(reference))
    assert refused.value.code == "code_expired"


# Debits, queries, revoking


def test_the_same_order_number_twice_debits_once(http_bank):
    token = bound(http_bank)
    first, second = debit(token, "inst-1-try-1"), debit(token, "inst-1-try-1")
    assert first.succeeded and first == second and first.reference
    ledger = http_bank.agreement(token)
    assert (ledger["debits"], ledger["balance_fen"]) == (1, OPENING - 10050)
    assert HttpBankGateway().query_debit(idempotency_key="inst-1-try-1") == first
    assert HttpBankGateway().query_debit(idempotency_key="never-sent") is None


def test_insufficient_funds_is_soft_and_a_hard_failure_ends_the_agreement_at_the_bank(http_bank):
    result = debit(bound(http_bank, sandbox_cards.INSUFFICIENT_FUNDS), "k1", "1")
    assert (result.succeeded, result.failure_code, result.soft) == (False, "insufficient_funds", True)

    token = bound(http_bank, sandbox_cards.HARD_FAIL)
    result = debit(token, "k2", "1")
    assert (result.succeeded, result.failure_code, result.soft) == (False, "mandate_revoked", False)
    assert (http_bank.agreement(token)["status"], http_bank.agreement(token)["ended_by"]) == ("ended", "bank")
    assert {"agreement.ended", "debit.result"} <= {notice["type"] for notice in http_bank.notices()}


def test_revoking_twice_is_fine_and_a_revoked_agreement_is_not_debited(http_bank):
    token = bound(http_bank)
    HttpBankGateway().revoke(token=token)
    HttpBankGateway().revoke(token=token)
    HttpBankGateway().revoke(token="a_never_issued")  # nothing to end
    assert http_bank.agreement(token)["ended_by"] == "merchant"
    assert debit(token, "k").failure_code == "mandate_revoked"
    assert http_bank.agreement(token)["debits"] == 0


def test_debit_many_sends_batches_and_answers_every_key_once(http_bank):
    good, other, poor = (
        bound(http_bank, card)
        for card in (
            sandbox_cards.GOOD_DEBIT,
            sandbox_cards.OTHER_GOOD_DEBIT,
            sandbox_cards.INSUFFICIENT_FUNDS,
        )
    )
    earlier, used = debit(good, "key-0", "1.01"), debit(good, "used", "100.50")
    requests = [DebitRequest((good, other, poor)[n % 3], Decimal("1.01"), f"key-{n}") for n in range(600)]
    results = HttpBankGateway().debit_many([*requests, DebitRequest(good, Decimal("1.01"), "used")])
    assert len(results) == 601 and results["key-0"] == earlier  # answered before: the first result
    assert results["used"] is None  # used for another amount: refused, and the query tells its result
    assert HttpBankGateway().query_debit(idempotency_key="used") == used
    assert sum(r.succeeded for r in results.values() if r) == 400
    assert {r.failure_code for r in results.values() if r and not r.succeeded} == {"insufficient_funds"}
    assert http_bank.agreement(good)["debits"] == 201  # key-0 once, not twice
    assert http_bank.agreement(good)["balance_fen"] == OPENING - 10050 - 200 * 101
    assert http_bank.agreement(other)["debited_fen"] == 200 * 101


def test_a_card_the_bank_closed_is_refused_and_not_debited(http_bank):
    token = bound(http_bank)
    http_bank.admin("POST", f"/sandbox/agreements/{token}/close-card")
    assert debit(token, "k").failure_code == "card_closed"
    with pytest.raises(BindRefused) as refused:
        HttpBankGateway().bind_start(card_number=sandbox_cards.GOOD_DEBIT, **HOLDER)
    assert refused.value.code == "card_closed"
    assert "card.closed" in {notice["type"] for notice in http_bank.notices()}


# Signatures, clocks and nonces, both ways


def raw(bank, method: str, path: str, body: bytes = b"", *, key=None, now=None, headers=None):
    key = key or bank_protocol.load_private_key(str(bank.platform_private_key))
    headers = headers or bank_protocol.signed_headers(key, method, path, body, now=now)
    response = bank.client.request(method, f"{bank.url}{path}", content=body, headers=headers)
    bank_key = bank_protocol.load_public_key(str(bank.bank_public_key))
    bank_protocol.answer_check(
        bank_key, response.status_code, path, headers["X-Nonce"], response.headers, response.content
    )
    return response.status_code, response.json().get("error", {}).get("code"), headers


def test_the_bank_refuses_a_request_signed_with_another_key_a_stale_one_or_a_replay(http_bank, tmp_path):
    token = bound(http_bank)
    body = json.dumps({"order_no": "k-refused", "agreement_no": token, "amount_fen": 100}).encode()
    other_key = bank_protocol.load_private_key(str(key_pair(tmp_path, "other")[0]))
    assert raw(http_bank, "POST", "/api/v1/debits", body, key=other_key)[:2] == (401, "signature_invalid")
    assert raw(http_bank, "POST", "/api/v1/debits", body, now=time.time() - 400)[:2] == (401, "clock_skew")
    assert raw(http_bank, "POST", "/api/v1/debits", body, headers={"X-Nonce": "x" * 20})[:2] == (
        401,
        "signature_missing",
    )
    key = bank_protocol.load_private_key(str(http_bank.platform_private_key))
    signed = bank_protocol.signed_headers(key, "POST", "/api/v1/debits", b"{}")
    assert raw(http_bank, "POST", "/api/v1/debits", body, headers=signed)[:2] == (401, "signature_invalid")
    assert HttpBankGateway().query_debit(idempotency_key="k-refused") is None  # nothing happened

    status, _, headers = raw(http_bank, "POST", "/api/v1/debits", body)
    assert status == 200
    assert raw(http_bank, "POST", "/api/v1/debits", body, headers=headers)[:2] == (401, "nonce_reused")
    assert http_bank.agreement(token)["debits"] == 1


@pytest.mark.parametrize("kind", ["signature", "stale", "nonce"])
def test_an_answer_that_fails_its_check_is_no_answer(http_bank, kind):
    token = bound(http_bank)
    http_bank.arm("bad_response", operation="debit", kind=kind)
    with pytest.raises(BankAnswerRefused):
        debit(token, "k-bad-answer")
    assert HttpBankGateway().query_debit(idempotency_key="k-bad-answer").succeeded  # it happened
    assert http_bank.agreement(token)["debits"] == 1


def test_the_banks_clock_can_follow_a_test_that_travels_in_time(http_bank):
    token = bound(http_bank)
    with time_machine.travel(datetime(2027, 1, 15, 0, 30, tzinfo=UTC), tick=True):
        with pytest.raises(GatewayUnavailable):
            debit(token, "k-refused")  # a month apart: each side refuses the other's clock
        http_bank.admin("POST", "/sandbox/clock", {"now": time.time()})
        assert debit(token, "k-travelled").succeeded
    [notice] = [n for n in http_bank.notices() if n["type"] == "debit.result"]
    assert (notice["data"]["order_no"], notice["data"]["settle_date"]) == ("k-travelled", "2027-01-15")


# Lost answers


def test_a_debit_timing_out_after_processing_settles_by_query_without_a_second_debit(http_bank):
    token = bound(http_bank)
    http_bank.arm("timeout", operation="debit", when="after")
    with pytest.raises(GatewayUnavailable):
        debit(token, "k-lost")
    settled = HttpBankGateway().query_debit(idempotency_key="k-lost")
    assert settled.succeeded
    assert debit(token, "k-lost") == settled  # even sent again, the same debit
    ledger = http_bank.agreement(token)
    assert (ledger["debits"], ledger["balance_fen"]) == (1, OPENING - 10050)


def test_a_debit_timing_out_before_processing_leaves_nothing(http_bank):
    token = bound(http_bank)
    http_bank.arm("timeout", operation="debit", when="before")
    with pytest.raises(GatewayUnavailable):
        debit(token, "k-never")
    assert HttpBankGateway().query_debit(idempotency_key="k-never") is None
    assert http_bank.agreement(token)["debits"] == 0


@pytest.mark.parametrize(
    "fault",
    [
        {"fault": "timeout", "when": "after", "mode": "sleep", "seconds": 1},  # done, then no answer
        {"fault": "slow", "seconds": 1},  # done after the client gave up waiting
    ],
)
def test_a_bank_slower_than_the_read_timeout_is_unavailable_and_the_debit_is_found_by_query(
    http_bank, settings, fault
):
    token = bound(http_bank)
    settings.BANK_HTTP_TIMEOUT = [2.0, 0.3]
    http_bank.arm(operation="debit", **fault)
    with pytest.raises(GatewayUnavailable) as unavailable:
        debit(token, "k-slow")
    assert unavailable.value.code == "timeout"
    wait_until(lambda: HttpBankGateway().query_debit(idempotency_key="k-slow") is not None)
    assert HttpBankGateway().query_debit(idempotency_key="k-slow").succeeded
    assert http_bank.agreement(token)["debits"] == 1


def test_5xx_is_unavailable_and_only_safe_calls_are_repeated(http_bank, monkeypatch):
    monkeypatch.setattr(HttpBankGateway, "retry_delays", (0, 0))
    token = bound(http_bank)
    http_bank.arm("error", operation="debit", when="after", status=503)
    with pytest.raises(GatewayUnavailable) as unavailable:
        debit(token, "k-5xx")
    assert unavailable.value.code == "bank_error"
    http_bank.arm("error", operation="query", status=500, times=2)
    assert HttpBankGateway().query_debit(idempotency_key="k-5xx").succeeded  # the third try answers
    http_bank.arm("error", operation="debit_batch", status=502)
    results = HttpBankGateway().debit_many([DebitRequest(token, Decimal("1"), "k-batch")])
    assert results == {"k-batch": None}
    assert HttpBankGateway().query_debit(idempotency_key="k-batch") is None  # refused before processing
    assert http_bank.agreement(token)["debits"] == 1


# Notices


class Receiver:
    """A stand-in for the platform's notice endpoint: checks each notice like the platform
    will (bank_protocol.notice_verify) and answers by ``plan`` (then acknowledges)."""

    def __init__(self, bank, plan=()):
        self.plan, self.received, self.refused = list(plan), [], []
        self.seen: set[str] = set()
        bank_key = bank_protocol.load_public_key(str(bank.bank_public_key))
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    notice = bank_protocol.notice_verify(
                        target=self.path,
                        headers=self.headers,
                        body=body,
                        public_key=bank_key,
                        first_use=receiver.first_use,
                    )
                except bank_protocol.SignatureRefused as refused:
                    receiver.refused.append(refused.code)
                    return self.answer(401, b"{}")
                receiver.received.append({**notice, "nonce": self.headers["X-Nonce"]})
                step = receiver.plan.pop(0) if receiver.plan else "ack"
                if step == "fail":
                    return self.answer(500, b"{}")
                if step == "wrong":
                    return self.answer(200, b'{"received": true}')
                self.answer(200, bank_protocol.notice_ack(notice["notice_id"]))

            def answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bank/notices/"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        bank.notify(self.url)

    def first_use(self, nonce):
        fresh = nonce not in self.seen
        self.seen.add(nonce)
        return fresh

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(http_bank):
    receivers = []

    def start(plan=()):
        receivers.append(Receiver(http_bank, plan))
        return receivers[-1]

    yield start
    for started in receivers:
        started.close()


def acknowledged(bank, count):
    return lambda: sum(notice["status"] == "acknowledged" for notice in bank.notices()) >= count


def test_a_notice_is_signed_and_sent_again_until_acknowledged(http_bank, receiver):
    notices = receiver(plan=["fail", "wrong"])
    result = debit(bound(http_bank), "k-noticed")
    wait_until(acknowledged(http_bank, 1))
    assert [n["notice_id"] for n in notices.received] == [notices.received[0]["notice_id"]] * 3
    assert len({n["nonce"] for n in notices.received}) == 3  # each try signed afresh
    notice = notices.received[-1]
    assert notice["type"] == "debit.result"
    assert notice["data"]["order_no"] == "k-noticed" and notice["data"]["bank_ref"] == result.reference
    assert notice["data"]["amount_fen"] == 10050 and notice["data"]["status"] == "succeeded"
    [queued] = http_bank.notices()
    assert (queued["status"], queued["attempts"]) == ("acknowledged", 3)


def test_a_badly_signed_or_stale_notice_is_refused_and_sent_again(http_bank, receiver):
    notices = receiver()
    http_bank.arm("bad_notice", kind="signature")
    http_bank.arm("bad_notice", kind="stale")
    debit(bound(http_bank), "k-bad-notice")
    wait_until(acknowledged(http_bank, 1))
    assert notices.refused == ["signature_invalid", "clock_skew"] and len(notices.received) == 1


def test_the_duplicate_notice_fault_delivers_the_same_notice_twice(http_bank, receiver):
    notices = receiver()
    http_bank.arm("duplicate_notice")
    debit(bound(http_bank), "k-twice")
    wait_until(acknowledged(http_bank, 2))
    first, second = notices.received
    assert first["notice_id"] == second["notice_id"] and first["data"] == second["data"]


def test_notices_out_of_order_arrive_last_first(http_bank, receiver):
    notices = receiver()
    token = bound(http_bank)
    http_bank.arm("notices_out_of_order", count=2)
    debit(token, "k-first")
    debit(token, "k-second")
    wait_until(acknowledged(http_bank, 2))
    assert [n["data"]["order_no"] for n in notices.received] == ["k-second", "k-first"]


def test_the_notice_can_arrive_before_the_answer(http_bank, receiver):
    notices = receiver()
    token = bound(http_bank)
    http_bank.arm("notice_first")
    result = debit(token, "k-early")
    assert [n["data"]["bank_ref"] for n in notices.received] == [result.reference]  # already there


def test_a_cardholder_ends_the_agreement_on_the_banks_page(http_bank, receiver):
    notices = receiver()
    token = bound(http_bank)
    page = http_bank.client.get(f"{http_bank.url}/agreements/").text
    assert "****1234" in page and "End at the bank" in page and sandbox_cards.GOOD_DEBIT not in page
    form_token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert (
        http_bank.client.post(f"{http_bank.url}/agreements/{token}/end", data={"token": "stale"}).status_code
        == 403
    )
    response = http_bank.client.post(f"{http_bank.url}/agreements/{token}/end", data={"token": form_token})
    assert response.status_code == 303
    assert http_bank.agreement(token)["ended_by"] == "cardholder"
    wait_until(lambda: notices.received)
    [notice] = notices.received
    assert (notice["type"], notice["data"]["agreement_no"], notice["data"]["ended_by"]) == (
        "agreement.ended",
        token,
        "cardholder",
    )
    assert debit(token, "k-after-end").failure_code == "mandate_revoked"


def test_the_banks_texts_page_shows_codes_with_masked_numbers(http_bank):
    gateway = HttpBankGateway()
    reference = gateway.bind_start(card_number=sandbox_cards.GOOD_DEBIT, **HOLDER)
    page = http_bank.client.get(f"{http_bank.url}/sms/").text
    assert http_bank.code(reference) in page and "138****8000" in page
    assert "13800138000" not in page and 'name="viewport"' in page
