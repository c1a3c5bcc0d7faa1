"""Signed checkpoints of the chain head, kept where the database cannot change them.

Each day beat writes the head block's number and hash, signed with the Ed25519 key in
``AUDIT_SIGNING_KEY``, as a JSON file in ``AUDIT_CHECKPOINT_DIR`` (a volume the database host
cannot write, copied off-site; auditors keep their own copies). Someone able to rewrite the
events *and* every block after them still cannot make the chain match a checkpoint signed
before the rewrite: ``verify_audit_chain --checkpoint FILE`` compares the block the file names
with the database.
"""

import json
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from audit.models import AuditBlock
from audit.signing import sign, signature_valid


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
    directory = Path(directory or settings.AUDIT_CHECKPOINT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audit-checkpoint-{head.number:09d}.json"
    body = {"payload": payload, "signature": sign(payload)}
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def checkpoint_check(path: Path) -> str | None:
    """Why the database does not match the checkpoint in ``path``, or None when it does."""
    try:
        body = json.loads(Path(path).read_text())
        payload, signature = body["payload"], body["signature"]
    except (OSError, ValueError, KeyError) as exc:
        return f"the checkpoint file cannot be read: {exc}"
    if not signature_valid(payload, signature):
        return "the checkpoint's signature is not valid: the file was changed or signed with another key"
    block = AuditBlock.objects.filter(number=payload["block"]).first()
    if block is None:
        return f"block {payload['block']} named by the checkpoint is missing"
    if block.hash_hex != payload["hash"]:
        return f"block {block.number} does not have the hash the checkpoint signed: the chain was rewritten"
    return None
