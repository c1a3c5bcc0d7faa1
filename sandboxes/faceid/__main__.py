"""Run the FaceID simulator: ``python -m sandboxes.faceid --port 8200 --data-dir var/sandbox-faceid``.

It accepts requests signed with one SecretId/SecretKey pair (the platform's development pair
by default, or ``--secret-id``/``--secret-key``, or FACEID_SECRET_ID/FACEID_SECRET_KEY in its
environment). Once listening it writes its base URL to ``<data-dir>/url`` (``--port 0`` picks
a free port).
"""

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from sandboxes.faceid.server import FaceIdServer
from sandboxes.faceid.store import Store

DEV_SECRET_ID = "AKIDsandbox0000000000000000000000000"  # noqa: S105 - public, like the key
DEV_SECRET_KEY = "dev-sandbox-faceid-secret-key"  # noqa: S105 - the sandbox's own, public pair


def parse(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sandboxes.faceid", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--data-dir", type=Path, default=Path("var/sandbox-faceid"))
    parser.add_argument("--secret-id", default=os.environ.get("FACEID_SECRET_ID") or DEV_SECRET_ID)
    parser.add_argument("--secret-key", default=os.environ.get("FACEID_SECRET_KEY") or DEV_SECRET_KEY)
    parser.add_argument("--rule-id", default=os.environ.get("FACEID_RULE_ID") or "1")
    parser.add_argument(
        "--public-url",
        default="",
        help="how browsers reach this server (the liveness page); default: its own URL",
    )
    parser.add_argument(
        "--slow-seconds", type=float, default=30.0, help="how long the 'slow' ID numbers wait"
    )
    parser.add_argument(
        "--admin-from",
        default="127.0.0.0/8,::1",
        help="comma separated networks whose clients may use the /sandbox/ admin endpoints",
    )
    parser.add_argument("--quiet", action="store_true", help="log warnings only")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(message)s"
    )
    data = args.data_dir
    data.mkdir(parents=True, exist_ok=True)
    server = FaceIdServer(
        (args.host, args.port),
        store=Store(data / "faceid.sqlite3"),
        secrets={args.secret_id: args.secret_key},
        rule_id=args.rule_id,
        public_url="",
        slow_seconds=args.slow_seconds,
        admin_from=[net.strip() for net in args.admin_from.split(",") if net.strip()],
    )
    host, port = server.server_address[:2]
    url = f"http://{host}:{port}"
    server.public_url = (args.public_url or url).rstrip("/")
    (data / "url").write_text(url)
    print(
        f"sandbox faceid: listening on {url} (liveness pages at {server.public_url}/h5/liveness)", flush=True
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
