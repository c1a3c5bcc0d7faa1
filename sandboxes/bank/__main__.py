"""Run the sandbox bank: ``python -m sandboxes.bank --port 8100 --data-dir var/sandbox-bank``.

Without ``--bank-private-key`` the bank makes its own development key pair once, in the data
directory, and prints where its public key is (the platform's BANK_PUBLIC_KEY). Without
``--platform-public-key`` it trusts the platform's development key (dev_keys/ here). Once
listening it writes its base URL to ``<data-dir>/url`` (``--port 0`` picks a free port).
"""

import argparse
import logging
import secrets
import signal
import sys
from pathlib import Path

from sandboxes.bank import signing
from sandboxes.bank.faults import Faults
from sandboxes.bank.notices import NoticeSender
from sandboxes.bank.server import BankServer
from sandboxes.bank.store import Bank

DEV_PLATFORM_PUBLIC_KEY = Path(__file__).resolve().parent / "dev_keys" / "platform_public.pem"


def parse(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sandboxes.bank", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--data-dir", type=Path, default=Path("var/sandbox-bank"))
    parser.add_argument("--notify-url", default="", help="where notices go (the platform's /bank/notices/)")
    parser.add_argument("--platform-public-key", type=Path, default=DEV_PLATFORM_PUBLIC_KEY)
    parser.add_argument(
        "--bank-private-key", type=Path, help="default: <data-dir>/bank_private.pem, made once"
    )
    parser.add_argument(
        "--admin-from",
        default="127.0.0.0/8,::1",
        help="comma separated networks whose clients may use the pages and admin endpoints",
    )
    parser.add_argument(
        "--notice-retry-seconds", type=float, default=5.0, help="first wait before a notice is resent"
    )
    parser.add_argument(
        "--notice-timeout", type=float, default=10.0, help="seconds to wait for the platform's answer"
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
    private_path = args.bank_private_key
    if private_path is None:
        private_path, public_path = data / "bank_private.pem", data / "bank_public.pem"
        if not private_path.exists():
            signing.generate_pair(private_path, public_path)
        print(f"sandbox bank: development key pair in {data}; its public key is {public_path}", flush=True)
    if args.platform_public_key == DEV_PLATFORM_PUBLIC_KEY:
        print("sandbox bank: trusting the platform's development key", flush=True)
    secret_path = data / "secret"
    if not secret_path.exists():
        secret_path.write_text(secrets.token_hex(32))
        secret_path.chmod(0o600)

    faults = Faults()
    bank = Bank(data / "bank.sqlite3", secret_path.read_text().encode(), faults)
    bank_key = signing.load_private_key(private_path)
    sender = NoticeSender(
        bank,
        bank_key,
        faults,
        url=args.notify_url,
        first_retry=args.notice_retry_seconds,
        timeout=args.notice_timeout,
    )
    server = BankServer(
        (args.host, args.port),
        bank=bank,
        faults=faults,
        sender=sender,
        bank_key=bank_key,
        platform_key=signing.load_public_key(args.platform_public_key),
        admin_from=[net.strip() for net in args.admin_from.split(",") if net.strip()],
    )
    host, port = server.server_address[:2]
    url = f"http://{host}:{port}"
    (data / "url").write_text(url)
    print(f"sandbox bank: listening on {url} (texts: {url}/sms/, agreements: {url}/agreements/)", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sender.start()
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        sender.stop()
        server.server_close()


if __name__ == "__main__":
    main()
