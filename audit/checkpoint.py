"""Signed checkpoints of the chain head, kept where the database cannot change them.

Each day beat writes the head block's number and hash, signed with the Ed25519 key in
``AUDIT_SIGNING_KEY``, as a JSON file in ``AUDIT_CHECKPOINT_DIR`` (a volume the database host
cannot write, copied off-site; auditors keep their own copies). Someone able to rewrite the
events *and* every block after them still cannot make the chain match a checkpoint signed
before the rewrite: ``verify_audit_chain --checkpoint FILE`` compares the block the file names
with the database.
"""

import base64
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from audit.models import AuditBlock


def _signing_key() -> Ed25519PrivateKey:
    if not settings.AUDIT_SIGNING_KEY:
        raise ImproperlyConfigured("Set AUDIT_SIGNING_KEY to write or check audit checkpoints.")
    return Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(settings.AUDIT_SIGNING_KEY))


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_write(directory: Path | None = None) -> Path | None:
    """Write a signed checkpoint of the newest block; None while nothing is sealed."""
    head = AuditBlock.objects.order_by("-number").first()
    if head is None:
        return None
    payload = {
        "block": head.number,
        "hash": head.hash_hex,
        "last_event_id": head.last_event_id,
        "written_at": timezone.now().isoformat(),
    }
    signature = _signing_key().sign(_canonical(payload))
    directory = Path(directory or settings.AUDIT_CHECKPOINT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audit-checkpoint-{head.number:09d}.json"
    body = {"payload": payload, "signature": base64.b64encode(signature).decode()}
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def checkpoint_check(path: Path) -> str | None:
    """Why the database does not match the checkpoint in ``path``, or None when it does."""
    try:
        body = json.loads(Path(path).read_text())
        payload, signature = body["payload"], base64.b64decode(body["signature"])
    except (OSError, ValueError, KeyError) as exc:
        return f"the checkpoint file cannot be read: {exc}"
    try:
        _signing_key().public_key().verify(signature, _canonical(payload))
    except InvalidSignature:
        return "the checkpoint's signature is not valid: the file was changed or signed with another key"
    block = AuditBlock.objects.filter(number=payload["block"]).first()
    if block is None:
        return f"block {payload['block']} named by the checkpoint is missing"
    if block.hash_hex != payload["hash"]:
        return f"block {block.number} does not have the hash the checkpoint signed: the chain was rewritten"
    return None
