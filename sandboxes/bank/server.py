"""The sandbox bank's HTTP server: the API of PROTOCOL.md under ``/api/v1/``, the tester's pages
(``/sms/``, ``/agreements/``) and the admin endpoints under ``/sandbox/`` (README.md here).

Pages and admin endpoints answer only to clients in ``admin_from`` (loopback by default); the
API answers anyone who signs with the platform's key.
"""

import calendar
import contextlib
import hmac
import html
import ipaddress
import json
import logging
import re
import secrets
import socket
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sandboxes.bank import signing
from sandboxes.bank.faults import FaultError
from sandboxes.bank.store import BankRefusal, day_end, settle_date

log = logging.getLogger("sandboxes.bank")

MAX_BODY = 2 * 1024 * 1024
MAX_BATCH = 1000
ORDER_NO = re.compile(r"[A-Za-z0-9\-_.:]{1,64}")
AGREEMENT_NO = re.compile(r"[A-Za-z0-9_]{1,64}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FIELDS = {
    "holder_name": re.compile(r"\S.{0,63}"),
    "id_number": re.compile(r"\d{15}|\d{17}[\dXx]"),
    "card_number": re.compile(r"\d{12,19}"),
    "reserved_phone": re.compile(r"\+?\d{11,15}"),
    "sign_id": re.compile(r"s_[0-9a-f]{32}"),
    "sms_code": re.compile(r".{0,16}"),
    "agreement_no": AGREEMENT_NO,
    "order_no": ORDER_NO,
}

API = [
    ("POST", re.compile(r"/api/v1/agreements/sign"), "sign"),
    ("POST", re.compile(r"/api/v1/agreements/confirm"), "confirm"),
    ("POST", re.compile(r"/api/v1/agreements/unsign"), "unsign"),
    ("GET", re.compile(r"/api/v1/agreements/signups/(?P<sign_id>[^/]+)"), "signup_query"),
    ("POST", re.compile(r"/api/v1/debits"), "debit"),
    ("POST", re.compile(r"/api/v1/debits/batch"), "debit_batch"),
    ("GET", re.compile(r"/api/v1/debits/(?P<order_no>[^/]+)"), "query"),
    ("GET", re.compile(r"/api/v1/statements/(?P<date>[^/]+)"), "statement"),
    ("GET", re.compile(r"/api/v1/agreement-statements/(?P<date>[^/]+)"), "agreement_statement"),
]


class Malformed(ValueError):
    pass


def _field(payload: dict, name: str):
    value = payload.get(name) if isinstance(payload, dict) else None
    if not isinstance(value, str) or not FIELDS[name].fullmatch(value):
        raise Malformed(f"{name} is missing or malformed")
    return value


def _amount(payload: dict) -> int:
    value = payload.get("amount_fen")
    if type(value) is not int or not 1 <= value <= 10_000_000_000:
        raise Malformed("amount_fen must be an integer from 1 to 10,000,000,000")
    return value


def _date(value: str, now: float) -> str:
    if not DATE.fullmatch(value):
        raise Malformed("the date is YYYY-MM-DD")
    try:
        time.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise Malformed("no such date") from None
    if value > settle_date(now):
        raise BankRefusal(404, "statement_unknown", "that date has not begun")
    return value


class BankServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, *, bank, faults, sender, bank_key, platform_key, admin_from):
        super().__init__(address, Handler)
        self.bank, self.faults, self.sender = bank, faults, sender
        self.bank_key, self.platform_key = bank_key, platform_key
        self.admin_from = [ipaddress.ip_network(net) for net in admin_from]
        self.form_token = secrets.token_urlsafe(16)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SandboxBank/1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: BankServer

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        log.info("%s %s", self.address_string(), format % args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        nonce = self.headers.get("X-Nonce", "")
        self.request_nonce = nonce if signing.NONCE.fullmatch(nonce) else signing.new_nonce()
        path = urllib.parse.urlsplit(self.path).path
        api = path.startswith("/api/")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            if api:
                return self._error(413 if length > 0 else 400, "too_large" if length > 0 else "malformed")
            return self._plain(400, "bad Content-Length")
        body = self.rfile.read(length) if length else b""
        if api:
            return self._api(method, path, body)
        if path == "/healthz":
            return self._plain(200, "ok")
        if not any(ipaddress.ip_address(self.client_address[0]) in net for net in self.server.admin_from):
            return self._plain(403, "The sandbox's pages and admin endpoints answer only to --admin-from.")
        self._admin(method, path, body)

    # The protocol's API

    def _api(self, method: str, path: str, body: bytes) -> None:
        found = [(m, match, op) for m, pattern, op in API if (match := pattern.fullmatch(path))]
        if not found:
            return self._error(404, "not_found")
        chosen = [(match, op) for m, match, op in found if m == method]
        if not chosen:
            return self._error(405, "method_not_allowed")
        match, op = chosen[0]
        server = self.server
        now = server.bank.now()
        slow = server.faults.take("slow", op)
        if slow:
            time.sleep(slow["seconds"])
        if self._fault(op, "before"):
            return
        try:
            nonce = signing.check(server.platform_key, method, self.path, self.headers, body, now=now)
            if not server.bank.nonce_first_use(nonce, now):
                raise signing.Refused("nonce_reused")
        except signing.Refused as refused:
            return self._error(401, refused.code)
        try:
            payload = json.loads(body) if method == "POST" else None
            answer = getattr(self, f"_{op}")(payload, match, now)
        except BankRefusal as refusal:
            return self._error(refusal.status, refusal.code, refusal.message, op=op, **refusal.extra)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._error(
                400, "malformed", str(exc) if isinstance(exc, Malformed) else "body is not JSON"
            )
        except Exception:  # the bank failed: whether it processed the request is unknown
            log.exception("%s %s failed", method, path)
            return self._error(500, "bank_error", "the sandbox bank failed", op=op)
        if self._fault(op, "after"):
            return
        if isinstance(answer, tuple):
            return self._send_file(*answer, op=op)
        self._send(200, answer, op=op)

    def _fault(self, op: str, when: str) -> bool:
        """A timeout or 5xx armed for ``op`` at this point; True when the request ends here."""
        timeout = self.server.faults.take("timeout", op, when)
        if timeout:
            if timeout["mode"] == "sleep":
                time.sleep(timeout["seconds"])
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return True
        error = self.server.faults.take("error", op, when)
        if error:
            self._error(error["status"], "bank_error", "the sandbox bank failed (a fault)", op=op)
            return True
        return False

    def _sign(self, payload: dict, _match, now):
        fields = {
            name: _field(payload, name)
            for name in ("holder_name", "id_number", "card_number", "reserved_phone")
        }
        return self.server.bank.sign_up(**fields, now=now)

    def _confirm(self, payload: dict, _match, now):
        return self.server.bank.confirm(
            sign_id=_field(payload, "sign_id"), sms_code=_field(payload, "sms_code"), now=now
        )

    def _unsign(self, payload: dict, _match, now):
        return self.server.bank.end_agreement(
            agreement_no=_field(payload, "agreement_no"), by="merchant", now=now
        )

    def _signup_query(self, _payload, match, now):
        sign_id = urllib.parse.unquote(match["sign_id"])
        if not FIELDS["sign_id"].fullmatch(sign_id):
            raise Malformed("sign_id is malformed")
        signup = self.server.bank.signup(sign_id, now)
        if signup is None:
            raise BankRefusal(404, "signup_unknown", "no such sign-up")
        return signup

    def _debit(self, payload: dict, _match, now):
        item = (_field(payload, "order_no"), _field(payload, "agreement_no"), _amount(payload))
        [result] = self._debited([item], now)
        if "error" in result:
            raise BankRefusal(409, "order_conflict", "order number used with another debit")
        return result

    def _debit_batch(self, payload: dict, _match, now):
        items = payload.get("items") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            raise Malformed("items must be a non-empty list")
        if len(items) > MAX_BATCH:
            raise BankRefusal(413, "too_large", f"at most {MAX_BATCH} items")
        items = [(_field(item, "order_no"), _field(item, "agreement_no"), _amount(item)) for item in items]
        return {"batch_no": str(payload.get("batch_no", ""))[:64], "items": self._debited(items, now)}

    def _debited(self, items, now) -> list[dict]:
        first = self.server.faults.take("notice_first")
        results, inline = self.server.bank.debit_many(items, now, inline_notices=bool(first))
        if inline:
            self.server.sender.deliver_now(inline)
        self.server.sender.wake()
        return results

    def _query(self, _payload, match, now):
        order_no = urllib.parse.unquote(match["order_no"])
        if not ORDER_NO.fullmatch(order_no):
            raise Malformed("order_no is malformed")
        result = self.server.bank.query(order_no)
        if result is None:
            raise BankRefusal(404, "order_unknown", "the bank never received this order number")
        return result

    def _statement(self, _payload, match, now):
        date = _date(match["date"], now)
        return (date, *self.server.bank.statement(date, self.server.faults.plants.get(date, [])))

    def _agreement_statement(self, _payload, match, now):
        date = _date(match["date"], now)
        return (date, *self.server.bank.agreement_statement(date))

    def _send(self, status: int, answer: dict, *, op: str = "", extra: dict | None = None) -> None:
        body = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
        self._signed(
            status, "application/json; charset=utf-8", signing.digest(body), len(body), extra or {}, op
        )
        self.wfile.write(body)

    def _error(self, status: int, code: str, message: str = "", *, op: str = "", **extra) -> None:
        self._send(
            status, {"error": {"code": code, "message": message or code.replace("_", " ")}, **extra}, op=op
        )

    def _send_file(self, date, path, sha256, lines, *, op) -> None:
        try:
            extra = {
                "X-Statement-Date": date,
                "X-Statement-Lines": str(lines),
                "X-Statement-Final": "true" if self.server.bank.now() >= day_end(date) else "false",
                "X-Statement-Sha256": sha256,
                "X-Statement-Signature": signing.sign(
                    self.server.bank_key, f"STATEMENT\n{date}\n{sha256}".encode()
                ),
            }
            self._signed(200, "text/csv; charset=utf-8", sha256, path.stat().st_size, extra, op)
            with open(path, "rb") as file:
                for block in iter(lambda: file.read(1 << 20), b""):
                    self.wfile.write(block)
        finally:
            path.unlink(missing_ok=True)

    def _signed(self, status, content_type, sha256, length, extra, op) -> None:
        """Status line and headers, signed over the request's target and nonce (PROTOCOL.md 2)."""
        now, nonce = self.server.bank.now(), self.request_nonce
        bad = self.server.faults.take("bad_response", op) if op else None
        if bad and bad["kind"] == "stale":
            now -= 600
        if bad and bad["kind"] == "nonce":
            nonce = signing.new_nonce()
        headers = signing.headers(self.server.bank_key, str(status), self.path, sha256, now=now, nonce=nonce)
        if bad and bad["kind"] == "signature":
            headers["X-Signature"] = signing.sign(self.server.bank_key, b"not this answer")
        self.send_response(status)
        for name, value in {
            "Content-Type": content_type,
            "Content-Length": str(length),
            **headers,
            **extra,
        }.items():
            self.send_header(name, value)
        self.end_headers()

    # Pages and admin endpoints

    def _admin(self, method: str, path: str, body: bytes) -> None:
        server = self.server
        now = server.bank.now()
        bank = server.bank
        parts = [part for part in path.split("/") if part]
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        try:
            if method == "GET" and not parts:
                return self._html("Sandbox bank", _index())
            if method == "GET" and parts == ["sms"]:
                return self._html("Sandbox bank: texts", _sms_page(bank.texts()), refresh=True)
            if method == "GET" and parts == ["agreements"]:
                return self._html(
                    "Sandbox bank: agreements", _agreements_page(bank.agreements(), server.form_token)
                )
            if (
                method == "POST"
                and len(parts) == 3
                and parts[0] == "agreements"
                and parts[2] in ("end", "close-card")
            ):
                form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                if not hmac.compare_digest(form.get("token", [""])[0], server.form_token):
                    return self._plain(403, "The form is stale: reload the page.")
                self._agreement_action(parts[1], parts[2], now)
                return self._redirect("/agreements/")
            if parts[:1] != ["sandbox"]:
                return self._plain(404, "not found")
            return self._json(200, self._sandbox(method, parts[1:], body, query, now))
        except FaultError as exc:
            return self._json(400, {"error": {"code": "bad_fault", "message": str(exc)}})
        except BankRefusal as refusal:
            return self._json(refusal.status, {"error": {"code": refusal.code, "message": refusal.message}})
        except (ValueError, KeyError, TypeError) as exc:
            return self._json(400, {"error": {"code": "malformed", "message": str(exc)}})

    def _sandbox(self, method, parts, body, query, now) -> dict:
        server = self.server
        bank, faults = server.bank, server.faults
        payload = json.loads(body) if body else {}
        route = (method, *parts)
        if route == ("GET", "sms"):
            return {"messages": bank.texts(sign_id=query.get("sign_id", [""])[0])}
        if route == ("GET", "agreements"):
            return {"agreements": bank.agreements(limit=1000)}
        if route == ("GET", "debits"):
            return {"debits": bank.debits()}
        if route == ("GET", "notices"):
            return {"notices": bank.notices()}
        if route == ("GET", "faults"):
            return {"armed": faults.armed(), "statement_differences": faults.plants}
        if route == ("POST", "faults"):
            if payload.get("fault") == "statement_difference":
                _date(payload.get("date", ""), now)
                payload.setdefault("order_no", bank.plant_target(payload["date"], payload.get("kind", "")))
            return {"armed": faults.arm(payload)}
        if route == ("DELETE", "faults"):
            faults.clear()
            return {"armed": []}
        if route == ("POST", "notify-url"):
            url = payload["url"]
            if url and not url.startswith(("http://", "https://")):
                raise ValueError("url must be http(s)")
            server.sender.url = url
            server.sender.wake()
            return {"url": url}
        if method == "POST" and len(parts) == 3 and parts[0] == "signups" and parts[2] == "expire":
            bank.expire_signup(parts[1])
            return {"sign_id": parts[1], "expired": True}
        if method == "GET" and len(parts) == 2 and parts[0] == "agreements":
            return bank.agreement(parts[1])
        if method == "POST" and len(parts) == 3 and parts[0] == "agreements":
            return self._agreement_action(parts[1], parts[2], now)
        if route == ("POST", "clock"):
            if "now" in payload:
                bank.clock_offset = float(payload["now"]) - time.time()
            else:
                bank.clock_offset = float(payload.get("offset_seconds", 0))
            server.sender.wake()
        if route in (("GET", "clock"), ("POST", "clock")):
            return {"now": bank.now(), "offset_seconds": bank.clock_offset}
        if route == ("POST", "reset"):
            faults.clear()
            server.sender.url = ""
            bank.clock_offset = 0.0
            bank.reset()
            return {"reset": True}
        if route == ("POST", "seed"):
            count = int(payload["count"])
            if not 1 <= count <= 1_000_000:
                raise ValueError("count must be 1 to 1,000,000")
            last4 = str(payload.get("last4", "1234"))
            balance = int(payload.get("balance_fen", 100_000_000))
            return {"agreements": bank.seed(count=count, last4=last4, balance_fen=balance, now=now)}
        raise BankRefusal(404, "not_found", "no such admin endpoint")

    def _agreement_action(self, agreement_no: str, action: str, now: float) -> dict:
        bank = self.server.bank
        if action == "end":
            answer = bank.end_agreement(agreement_no=agreement_no, by="cardholder", now=now)
        elif action == "close-card":
            answer = bank.close_card(agreement_no=agreement_no, now=now)
        else:
            raise BankRefusal(404, "not_found", "no such action")
        self.server.sender.wake()
        return answer

    def _json(self, status: int, answer: dict) -> None:
        self._write(
            status, "application/json; charset=utf-8", json.dumps(answer, ensure_ascii=False).encode()
        )

    def _plain(self, status: int, text: str) -> None:
        self._write(status, "text/plain; charset=utf-8", text.encode())

    def _html(self, title: str, content: str, *, refresh: bool = False) -> None:
        page = PAGE.format(
            title=html.escape(title),
            content=content,
            refresh='<meta http-equiv="refresh" content="5">' if refresh else "",
        )
        self._write(200, "text/html; charset=utf-8", page.encode())

    def _redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _write(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


PAGE = """<!doctype html>
<html lang="zh-Hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
<title>{title}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 32rem; padding: 1rem; }}
h1 {{ font-size: 1.3rem; }} nav a {{ margin-right: 1rem; }}
.card {{ border: 1px solid #ccc; border-radius: .5rem; padding: .75rem; margin: .75rem 0; }}
.code {{ font-size: 1.6rem; letter-spacing: .2rem; font-weight: bold; }}
.muted {{ color: #555; font-size: .875rem; }}
button {{ font: inherit; padding: .4rem .8rem; margin: .25rem .25rem 0 0; }} .inline {{ display: inline; }}
</style></head>
<body><nav><a href="/">沙箱银行 Sandbox bank</a><a href="/sms/">短信 Texts</a>
<a href="/agreements/">协议 Agreements</a></nav>
<h1>{title}</h1>
{content}
</body></html>
"""


def _index() -> str:
    return (
        "<p>This is the sandbox bank, a server of its own speaking the agreement-payment protocol "
        "(sandboxes/bank/PROTOCOL.md) with the platform.</p>"
        '<ul><li><a href="/sms/">Texts the bank sent</a> (sign-up codes, newest first)</li>'
        '<li><a href="/agreements/">Agreements</a>: end one at the bank as its cardholder, '
        "or close its card</li>"
        "<li>Faults for testing: <code>POST /sandbox/faults</code> (sandboxes/bank/README.md)</li></ul>"
    )


def _beijing(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts + 8 * 3600))


TEXT = (
    '<div class="card"><div class="muted">{sent} · to {phone} · card ****{last4}</div>'
    '<div class="code">{code}</div><div>{text}</div></div>'
)
AGREEMENT = (
    '<div class="card"><div>card ****{last4} · <b>{status}</b> {ended_by}</div>'
    '<div class="muted">{short}… · signed {signed}</div>{buttons}</div>'
)
BUTTON = (
    '<form method="post" action="/agreements/{number}/{action}" class="inline">'
    '<input type="hidden" name="token" value="{token}"><button>{label}</button></form>'
)


def _escaped(template: str, **values) -> str:
    return template.format(**{name: html.escape(str(value)) for name, value in values.items()})


def _sms_page(texts: list[dict]) -> str:
    if not texts:
        return "<p>No texts yet. Start binding a card on the platform; the bank's code shows here.</p>"
    items = [
        _escaped(
            TEXT,
            sent=_beijing(calendar.timegm(time.strptime(t["sent_at"], "%Y-%m-%dT%H:%M:%SZ"))),
            phone=t["phone_masked"],
            last4=t["card_last4"],
            code=t["code"],
            text=t["text"],
        )
        for t in texts
    ]
    return "<p class='muted'>Beijing time; this page refreshes itself.</p>" + "".join(items)


def _agreements_page(agreements: list[dict], token: str) -> str:
    if not agreements:
        return "<p>No agreements yet.</p>"
    items = []
    for a in agreements:
        buttons = ""
        if a["status"] == "active":
            buttons = "".join(
                _escaped(BUTTON, number=a["agreement_no"], action=action, token=token, label=label)
                for action, label in (
                    ("end", "在银行解约 End at the bank"),
                    ("close-card", "销卡 Close the card"),
                )
            )
        items.append(
            AGREEMENT.format(
                last4=html.escape(a["card_last4"]),
                status=html.escape(a["status"]),
                ended_by=html.escape(f"({a['ended_by']})" if a["ended_by"] else ""),
                short=html.escape(a["agreement_no"][:14]),
                signed=_beijing(a["signed_at"]),
                buttons=buttons,
            )
        )
    return "".join(items)
