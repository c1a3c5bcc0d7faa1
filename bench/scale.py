"""Back-office pages and hot queries on the data at scale (``bench/seed_scale.py``'s database).

    .venv/bin/python bench/scale.py [--runs 7]

Serves each page in this process through Django's WSGI handler with production settings and
a verified officer (or borrower) session, as gunicorn would, and times ``--runs`` requests
after one warm-up: the admin audit event list (its default week, then each filter), the review
queue, a borrower's portal pages, and the scheduled anomaly scan over the last 5 minutes.
Prints the median and slowest time of each, its queries and its target.
Targets: audit event list under 500 ms filtered or not, review queue under 200 ms, anomaly
scan under 1 s.
"""

import argparse
import io
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.http_load import sessions  # noqa: E402
from bench.production_env import environment, manage  # noqa: E402
from bench.seed_scale import DATABASE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    manage("collectstatic", "--noinput", env=environment(DATABASE))  # the pages name hashed files
    borrower, officer, pages = sessions()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.utils import timezone

    from audit import risk
    from audit.models import AuditEvent

    handler = WSGIHandler()

    def get(path: str, cookie: str) -> tuple[str, dict]:
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "443",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_COOKIE": cookie,
            "HTTP_X_FORWARDED_PROTO": "https",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        answer = {}
        b"".join(handler(environ, lambda status, headers, *_: answer.update(status=status, headers=headers)))
        return answer["status"], dict(answer["headers"])

    def timed(name: str, target_ms: float | None, action) -> None:
        action()  # warm-up
        times, queries = [], []
        with connection.execute_wrapper(
            lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)
        ):
            action()
        for _ in range(args.runs):
            began = time.perf_counter()
            action()
            times.append((time.perf_counter() - began) * 1000)
        target = f"< {target_ms:.0f} ms" if target_ms else ""
        median, slowest = statistics.median(times), max(times)
        print(f"{name:44} {median:8.1f} {slowest:8.1f} {len(queries):7d}  {target}", flush=True)

    def page(path: str, cookie: str):
        def load():
            status, headers = get(path, cookie)
            if not status.startswith("200"):
                raise SystemExit(f"{path} answered {status} {headers.get('Location', '')}")

        return load

    events = "/admin/audit/auditevent/"
    status, headers = get(events, officer)
    week = headers["Location"]  # the list opens on its default week
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    since, until = today - timedelta(days=30), today + timedelta(days=1)
    month = urlencode({"occurred_at__gte": str(since), "occurred_at__lt": str(until)})
    in_month = AuditEvent.objects.filter(occurred_at__gte=since, occurred_at__lt=until).order_by()
    far = max(1, min(50, in_month[:5000].count() // 100))  # a page deep in the month, if there is one
    sample = AuditEvent.objects.order_by("-id").values("actor_label", "subject_id", "request_id").first()
    print(f"audit events in the table: about {AuditEvent.objects.order_by('-id').values('id')[0]['id']:,}")
    print(f"{'page or query':44} {'median':>8} {'slowest':>8} {'queries':>7}  target (ms)")
    timed("audit event list, default week", 500, page(week, officer))
    filters = {
        "by action (week)": f"{week}&action__exact=card.unbound",
        "by actor label (week)": f"{week}&{urlencode({'actor_label': sample['actor_label']})}",
        "by actor label (all time)": f"{events}?{urlencode({'actor_label': sample['actor_label']})}",
        "by subject id (all time)": f"{events}?{urlencode({'subject': sample['subject_id']})}",
        "by request id (search, all time)": f"{events}?{urlencode({'q': sample['request_id']})}",
        "by subject type (week)": f"{week}&subject_type=cards.card",
        "past 30 days": f"{events}?{month}",
        f"past 30 days, page {far}": f"{events}?{month}&p={far}",
        "all time": f"{events}?actor_kind__exact=borrower",
    }
    for name, path in filters.items():
        timed(f"audit event list, {name}", 500, page(path, officer))
    timed("review queue", 200, page("/admin/audit/reviewcase/", officer))
    timed(
        "review queue, open high risk",
        200,
        page("/admin/audit/reviewcase/?status__exact=open&risk=high", officer),
    )
    for path, who in pages.items():
        if who == "borrower":
            timed(f"portal {path}", None, page(path, borrower))
    now = timezone.now()
    timed("anomaly scan, last 5 minutes", 1000, lambda: list(risk.scan(now - timedelta(minutes=5), now)))
    connection.close()


if __name__ == "__main__":
    main()
