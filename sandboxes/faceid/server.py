"""The simulator's HTTP server.

``POST /`` is FaceID's API as the Tencent Cloud SDK speaks it: the action in ``X-TC-Action``,
JSON in and out, every request signed (TC3-HMAC-SHA256) with a known SecretId/SecretKey pair,
errors as ``{"Response": {"Error": {...}, "RequestId": ...}}`` with status 200.
``/h5/liveness`` is the hosted liveness page the borrower is sent to; the admin endpoints
under ``/sandbox/`` (README.md) answer only to ``admin_from`` clients.
"""

import contextlib
import html
import ipaddress
import json
import logging
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sandboxes.faceid import outcomes, signing
from sandboxes.faceid.store import Store, new_request_id

log = logging.getLogger("sandboxes.faceid")

MAX_BODY = 64 * 1024
PAGE = (Path(__file__).resolve().parent / "liveness.html").read_text()
ERRCODE_FACE_MISMATCH = 2015  # the simulator's code for "not the person on the ID photo"


class Error(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class FaceIdServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(
        self,
        address,
        *,
        store: Store,
        secrets: dict,
        rule_id: str,
        public_url: str,
        slow_seconds: float,
        admin_from,
    ):
        super().__init__(address, Handler)
        self.store, self.secrets, self.rule_id = store, secrets, rule_id
        self.public_url, self.slow_seconds = public_url, slow_seconds
        self.admin_from = [ipaddress.ip_network(net) for net in admin_from]


def _text(value, name: str, limit: int = 64) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise Error("InvalidParameter", f"{name} is missing or malformed.")
    return value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SandboxFaceID/1"
    server: FaceIdServer

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        log.info("%s %s", self.address_string(), format % args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return self._plain(413 if length > 0 else 400, "bad Content-Length")
        body = self.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(self.path)
        path, query = split.path, urllib.parse.parse_qs(split.query)
        if path == "/" and method == "POST":
            return self._api(body)
        if path == "/healthz":
            return self._plain(200, "ok")
        if path == "/h5/liveness" and method == "GET":
            return self._page(query.get("token", [""])[0])
        if path in ("/h5/liveness/done", "/h5/liveness/cancel") and method == "POST":
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            return self._leave(form.get("token", [""])[0], form.get("source", [""])[0], path.endswith("done"))
        if not any(ipaddress.ip_address(self.client_address[0]) in net for net in self.server.admin_from):
            return self._plain(403, "The admin endpoints answer only to --admin-from.")
        self._admin(method, path, body)

    # FaceID's API

    def _api(self, body: bytes) -> None:
        request_id = new_request_id()
        self.arrived = time.time()
        action = self.headers.get("X-TC-Action", "")
        try:
            signing.check(self.server.secrets, "POST", self.path, self.headers, body)
            try:
                payload = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise Error("InvalidParameter", "The body is not JSON.") from None
            if not isinstance(payload, dict):
                raise Error("InvalidParameter", "The body is not a JSON object.")
            handler = {
                "IdCardVerification": self._id_card,
                "PhoneVerification": self._phone,
                "DetectAuth": self._detect_auth,
                "GetDetectInfoEnhanced": self._detect_info,
            }.get(action)
            if handler is None:
                raise Error("InvalidAction", f"The action {action!r} does not exist.")
            answer = handler(payload, request_id)
        except signing.Refused as refused:
            return self._api_answer({"Error": {"Code": refused.code, "Message": refused.message}}, request_id)
        except Error as error:
            return self._api_answer({"Error": {"Code": error.code, "Message": error.message}}, request_id)
        if answer is not None:
            self._api_answer(answer, request_id)

    def _log(self, request_id: str, action: str, id_number: str, result: str) -> None:
        self.server.store.call_log(request_id, action, id_number, result, arrived=self.arrived)

    def _fault(self, id_number: str) -> bool:
        """Answers the ID numbers that play an outage; True when the request ends here."""
        fault = outcomes.behaviour(id_number).fault
        if fault == "slow":
            time.sleep(self.server.slow_seconds)
        if fault == "down":
            self._plain(503, "The sandbox identity provider is down (an ID number that plays an outage).")
            return True
        return False

    def _id_card(self, payload: dict, request_id: str):
        name, number = _text(payload.get("Name"), "Name", 32), _text(payload.get("IdCard"), "IdCard", 18)
        del name  # any name matches: outcomes follow the ID number
        if self._fault(number):
            return None
        result = outcomes.behaviour(number).id_result
        self._log(request_id, "IdCardVerification", number, result)
        return {"Result": result, "Description": DESCRIPTIONS["id"].get(result, "")}

    def _phone(self, payload: dict, request_id: str):
        _text(payload.get("Name"), "Name", 32)
        number, phone = _text(payload.get("IdCard"), "IdCard", 18), _text(payload.get("Phone"), "Phone", 16)
        if self._fault(number):
            return None
        result = outcomes.phone_result(number, phone)
        self._log(request_id, "PhoneVerification", number, result)
        isp = "移动" if result == "0" else ""
        return {"Result": result, "Description": DESCRIPTIONS["phone"].get(result, ""), "Isp": isp}

    def _check_rule(self, payload: dict) -> None:
        if _text(payload.get("RuleId"), "RuleId") != self.server.rule_id:
            raise Error("InvalidParameterValue.RuleIdNotExist", "The RuleId does not exist.")

    def _detect_auth(self, payload: dict, request_id: str):
        self._check_rule(payload)
        _text(payload.get("Name"), "Name", 32)
        number = _text(payload.get("IdCard"), "IdCard", 18)
        redirect = _text(payload.get("RedirectUrl"), "RedirectUrl", 1024)
        if urllib.parse.urlsplit(redirect).scheme not in ("http", "https"):
            raise Error("InvalidParameterValue", "RedirectUrl must be an http(s) URL.")
        if self._fault(number):
            return None
        behaviour = outcomes.behaviour(number)
        if behaviour.id_result != "0":
            raise Error(
                "FailedOperation.IdCardNotMatch", "The name and ID number do not match the authority."
            )
        token = self.server.store.liveness_create(
            rule_id=self.server.rule_id, redirect_url=redirect, similarity=behaviour.similarity
        )
        self._log(request_id, "DetectAuth", number, "0")
        url = f"{self.server.public_url}/h5/liveness?token={token}"
        return {"Url": url, "BizToken": token}

    def _detect_info(self, payload: dict, request_id: str):
        self._check_rule(payload)
        session = self.server.store.liveness(_text(payload.get("BizToken"), "BizToken"))
        if session is None:
            raise Error("InvalidParameterValue.BizTokenIllegal", "The BizToken does not exist.")
        if session["expired"]:
            raise Error("InvalidParameterValue.BizTokenExpired", "The BizToken has expired.")
        if session["finished_at"] is None:
            text = {
                "ErrCode": None,
                "ErrMsg": "The borrower has not finished the liveness page.",
                "Sim": None,
            }
        else:
            similarity = session["similarity"]
            passed = similarity >= 70
            text = {
                "ErrCode": 0 if passed else ERRCODE_FACE_MISMATCH,
                "ErrMsg": "成功" if passed else "比对相似度未达到通过标准",
                "LiveStatus": 0,
                "LiveMsg": "成功",
                "Comparestatus": 0 if passed else ERRCODE_FACE_MISMATCH,
                "Comparemsg": "成功" if passed else "比对相似度未达到通过标准",
                "Sim": f"{similarity:.2f}",
                "LivenessMode": 3,
            }
        self._log(request_id, "GetDetectInfoEnhanced", "", str(text["ErrCode"]))
        return {"Text": text, "IdCardData": None, "BestFrame": None, "VideoData": None}

    def _api_answer(self, response: dict, request_id: str) -> None:
        self._send(
            200, "application/json", json.dumps({"Response": {**response, "RequestId": request_id}}).encode()
        )

    # The hosted page

    def _page(self, token: str) -> None:
        session = self.server.store.liveness(token) if token else None
        if session is None or session["expired"] or session["finished_at"] is not None:
            return self._plain(404, "This liveness link is not valid (unknown, expired or already used).")
        page = PAGE.replace("{{token}}", html.escape(token))
        self._send(200, "text/html; charset=utf-8", page.encode())

    def _leave(self, token: str, source: str, done: bool) -> None:
        session = self.server.store.liveness(token) if token else None
        if session is None or session["expired"]:
            return self._plain(404, "This liveness link is not valid.")
        if done:
            if source not in ("camera", "upload"):
                return self._plain(400, "Take a picture or choose one first.")
            self.server.store.liveness_finish(token, source)
        self._redirect(session["redirect_url"], token)

    def _redirect(self, url: str, token: str) -> None:
        separator = "&" if urllib.parse.urlsplit(url).query else "?"
        self.send_response(303)
        self.send_header("Location", f"{url}{separator}token={urllib.parse.quote(token)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    # Admin endpoints

    def _admin(self, method: str, path: str, body: bytes) -> None:
        store = self.server.store
        if (method, path) == ("POST", "/sandbox/reset"):
            store.reset()
            return self._json({"reset": True})
        if (method, path) == ("GET", "/sandbox/calls"):
            return self._json({"calls": store.calls()})
        parts = path.strip("/").split("/")
        if (
            method == "POST"
            and len(parts) == 4
            and parts[:2] == ["sandbox", "liveness"]
            and parts[3] == "finish"
        ):
            payload = json.loads(body or b"{}")
            source = payload.get("source", "camera")
            if store.liveness(parts[2]) is None or source not in ("camera", "upload"):
                return self._json({"error": "unknown token or source"}, status=404)
            return self._json({"finished": store.liveness_finish(parts[2], source)})
        if method == "GET" and len(parts) == 3 and parts[:2] == ["sandbox", "liveness"]:
            session = store.liveness(parts[2])
            return self._json(session or {"error": "unknown token"}, status=200 if session else 404)
        self._plain(404, "not found")

    # Answers

    def _json(self, payload: dict, status: int = 200) -> None:
        self._send(status, "application/json", json.dumps(payload).encode())

    def _plain(self, status: int, text: str) -> None:
        self._send(status, "text/plain; charset=utf-8", text.encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        with contextlib.suppress(OSError):  # the client gave up (its timeout)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)


DESCRIPTIONS = {
    "id": {
        "0": "姓名和身份证号一致",
        "-1": "姓名和身份证号不一致",
        "-2": "非法身份证号",
        "-4": "证件库服务异常",
        "-5": "证件库中无此身份证记录",
    },
    "phone": {
        "0": "认证通过",
        "-4": "信息验证不一致",
        "-6": "手机号码不合法",
        "-7": "身份证号码有误",
        "-9": "没有记录",
    },
}
