"""Data at scale for the page and back-office benchmarks, built in minutes with set-based SQL.

    .venv/bin/python bench/seed_scale.py [--borrowers 100000] [--events 10000000]

Builds a fresh database ``lending_bench_scale`` (dropped first): migrations and ``seed_demo``
(the demo borrower, officer and auditor, through the real services), then, each table with one
``INSERT ... SELECT FROM generate_series``: N borrowers with a verified identity, two cards each
(the repayment card with its debit mandate; every other second card unbound), a 12-month loan
each with its schedule (installments due before today paid by a successful debit attempt),
notifications (one unread), review cases (1% open) and risk alerts, the audit events (spread over the past
year, the newest a minute old) and a history row for every user, card, mandate, loan and
installment. The audit table's secondary indexes are dropped for the load and built again
afterwards (as a restore would). Prints each step's rows and time.

Encrypted columns hold placeholders: nothing on the benchmarked pages decrypts them.
``bench/scale.py`` and ``bench/http_load.py --database lending_bench_scale`` measure on it.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.production_env import environment, fresh_database, manage  # noqa: E402

DATABASE = "lending_bench_scale"

USERS = """
INSERT INTO accounts_user (password, is_superuser, phone, is_staff, is_active, date_joined,
                           frozen_reason, language, session_epoch, email, unread_notifications)
SELECT '!', false, '+86139' || lpad(n::text, 8, '0'), false, true,
       now() - interval '400 days' + n * interval '1 second', '', 'zh-hans', 0, '', 1
FROM generate_series(1, %(borrowers)s) AS n
"""
IDENTITIES = """
INSERT INTO accounts_identity (user_id, real_name, id_number_encrypted, id_number_hash,
                               id_number_masked, birth_date, verified_at)
SELECT id, '张三', 'bench', md5('id:' || id), '110***********' || lpad((id %% 10000)::text, 4, '0'),
       date '1990-01-01' + (id %% 9000)::int, date_joined + interval '1 minute'
FROM accounts_user WHERE phone LIKE '+86139%%'
"""
CARDS = """
INSERT INTO cards_card (user_id, bin, last4, bank_code, card_type, fingerprint, holder_name,
                        reserved_phone_encrypted, reserved_phone_masked, status, is_repayment,
                        bound_at, unbound_at)
SELECT u.id, '622202', lpad(((u.id * 7 + k) %% 10000)::text, 4, '0'), 'ICBC', 'debit',
       md5('card:' || u.id || ':' || k), '张三', 'bench', '139****' || right(u.phone, 4),
       CASE WHEN k = 2 AND u.id %% 2 = 0 THEN 'unbound' ELSE 'active' END, k = 1,
       u.date_joined + k * interval '1 hour',
       CASE WHEN k = 2 AND u.id %% 2 = 0 THEN u.date_joined + interval '30 days' END
FROM accounts_user AS u CROSS JOIN generate_series(1, 2) AS k
WHERE u.phone LIKE '+86139%%'
"""
MANDATES = """
INSERT INTO cards_mandate (card_id, token_encrypted, status, agreement_version, created_at,
                           revoked_at, revoked_at_bank)
SELECT id, 'bench', CASE WHEN status = 'active' THEN 'active' ELSE 'revoked' END, '2026-01',
       bound_at, unbound_at, unbound_at
FROM cards_card WHERE holder_name = '张三' AND reserved_phone_encrypted = 'bench'
"""
LOANS = """
INSERT INTO lending_loan (borrower_id, product, principal, annual_rate, term_months, status,
                          disbursed_at)
SELECT id, (ARRAY['car', 'phone', 'installment'])[1 + id %% 3], 3000 + (id %% 50) * 1000, 0.1200, 12,
       'active', now() - ((id %% 330) || ' days')::interval
FROM accounts_user WHERE phone LIKE '+86139%%'
"""
INSTALLMENTS = """
INSERT INTO lending_installment (loan_id, number, due_date, principal_due, interest_due,
                                 paid_amount, status, next_attempt_at, soft_failures)
SELECT l.id, k, d.due, round(l.principal / 12, 2), round(l.principal * 0.01, 2),
       CASE WHEN d.due < current_date THEN round(l.principal / 12, 2) + round(l.principal * 0.01, 2)
            ELSE 0 END,
       CASE WHEN d.due < current_date THEN 'paid' ELSE 'due' END,
       CASE WHEN d.due < current_date THEN NULL ELSE d.due::timestamp AT TIME ZONE 'Asia/Shanghai' END, 0
FROM lending_loan AS l CROSS JOIN generate_series(1, 12) AS k
CROSS JOIN LATERAL (SELECT (l.disbursed_at AT TIME ZONE 'Asia/Shanghai')::date
                           + k * interval '1 month' AS due) AS d
WHERE l.product IN ('car', 'phone', 'installment') AND l.annual_rate = 0.1200 AND l.term_months = 12
"""
ATTEMPTS = """
INSERT INTO lending_debitattempt (installment_id, card_id, mandate_id, number, amount,
                                  idempotency_key, status, gateway_reference, failure_code, trigger,
                                  created_at, settled_at, resent_count, payment_ref)
SELECT i.id, c.id, m.id, 1, i.paid_amount, 'installment-' || i.id || '-attempt-1', 'succeeded',
       md5('ref:' || i.id), '', 'schedule', d.at, d.at + interval '2 seconds', 0, ''
FROM lending_installment AS i
JOIN lending_loan AS l ON l.id = i.loan_id
JOIN cards_card AS c ON c.user_id = l.borrower_id AND c.is_repayment
JOIN cards_mandate AS m ON m.card_id = c.id
CROSS JOIN LATERAL (SELECT i.due_date::timestamp AT TIME ZONE 'Asia/Shanghai'
                           + interval '8 hours' AS at) AS d
WHERE i.status = 'paid' AND c.reserved_phone_encrypted = 'bench'
"""
NOTIFICATIONS = """
INSERT INTO accounts_notification (user_id, kind, params, link, created_at, read_at)
SELECT u.id, 'card_bound', jsonb_build_object('card', '**** 1234'), '/cards/',
       u.date_joined + k * interval '1 day',
       CASE WHEN k < 5 THEN u.date_joined + k * interval '1 day' + interval '1 hour' END
FROM accounts_user AS u CROSS JOIN generate_series(1, 5) AS k
WHERE u.phone LIKE '+86139%%'
"""
REVIEW_CASES = """
INSERT INTO audit_reviewcase (kind, subject_type_id, subject_id, borrower_id, risk_score, reasons,
                              approvals_needed, status, opened_at, sla_due_at, decided_at,
                              outcome_reason)
SELECT 'card_unbind', %(card_type)s, c.id::text, c.user_id, (c.id %% 100),
       '[{"code": "velocity", "text": "many unbinds in a short window"}]'::jsonb,
       CASE WHEN c.id %% 100 >= 70 THEN 2 ELSE 1 END,
       CASE WHEN n %% 100 = 0 THEN 'open' WHEN n %% 3 = 0 THEN 'rejected' ELSE 'approved' END,
       now() - (n %% 365) * interval '1 day' - (n %% 1440) * interval '1 minute',
       now() - (n %% 365) * interval '1 day' + interval '1 day',
       CASE WHEN n %% 100 <> 0 THEN now() - (n %% 365) * interval '1 day' END,
       CASE WHEN n %% 100 <> 0 THEN 'checked with the borrower' ELSE '' END
FROM cards_card AS c CROSS JOIN LATERAL (SELECT c.id AS n) AS s
WHERE c.id %% 4 = 0 AND c.reserved_phone_encrypted = 'bench'
"""
RISK_ALERTS = """
INSERT INTO audit_riskalert (rule, severity, subject_type, subject_id, subject_label, borrower_id,
                             window_start, reason, evidence, status, raised_at, note, resolution)
SELECT 'unbind_velocity_user', 'high', 'accounts.user', u.id::text, '139****' || right(u.phone, 4),
       u.id, now() - (u.id %% 365) * interval '1 day', 'many unbinds in a short window', '{}'::jsonb,
       CASE WHEN u.id %% 50 = 0 THEN 'open' ELSE 'resolved' END,
       now() - (u.id %% 365) * interval '1 day', '', ''
FROM accounts_user AS u WHERE u.phone LIKE '+86139%%' AND u.id %% 10 = 0
"""
# Actions in roughly the proportions a year of traffic leaves: logins and codes most of all.
ACTIONS = [
    "login.succeeded", "login.succeeded", "login.succeeded", "sms_code.sent", "sms_code.sent",
    "sms_code.verified", "sms_code.verified", "login.logout", "login.password_failed",
    "debit.succeeded", "debit.succeeded", "card.bind_started", "card.bound", "card.unbound",
    "card.repayment_set", "phone_change.started", "phone_change.completed", "user.language_set",
    "access.viewed", "review.opened",
]  # fmt: skip
# Borrower m (1..N) has id first_user + m - 1 and phone +86139 followed by m in 8 digits.
EVENTS = """
INSERT INTO audit_auditevent (occurred_at, actor_id, actor_kind, actor_label, action, subject_type,
                              subject_id, ip, user_agent, request_id, data)
SELECT now() - interval '365 days' + (n * (31536000 - 60)::float8 / %(events)s) * interval '1 second',
       %(first_user)s + m - 1, 'borrower', '139****' || right(lpad(m::text, 8, '0'), 4), a.action,
       CASE WHEN a.action LIKE 'card.%%' THEN 'cards.card'
            WHEN a.action LIKE 'debit.%%' THEN 'lending.debitattempt' ELSE 'accounts.user' END,
       (n %% 1000000)::text,
       ('10.' || (n %% 200) || '.' || (n / 200 %% 250) || '.' || (n %% 250 + 1))::inet,
       'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile',
       md5('request:' || n),
       jsonb_build_object('n', n %% 1000, 'card', '**** ' || lpad((n %% 10000)::text, 4, '0'))
FROM generate_series(1::bigint, %(events)s) AS n
CROSS JOIN LATERAL (SELECT 1 + (n * 7919) %% %(borrowers)s AS m,
                           (%(actions)s::text[])[1 + (n * 31) %% %(action_count)s] AS action) AS a
"""


def audit_secondary_indexes(cursor) -> list[str]:
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_auditevent' "
        "AND indexname <> 'audit_auditevent_pkey'"
    )
    return [row[0] for row in cursor.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    args = parser.parse_args()
    env = environment(DATABASE)
    started = time.perf_counter()
    fresh_database(DATABASE)
    manage("migrate", env=env)
    manage("seed_demo", env=env, debug=True)
    print(f"migrated and seeded the demo people in {time.perf_counter() - started:.0f} s", flush=True)

    import django

    django.setup()
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from accounts.models import User
    from cards.models import Card, Mandate
    from lending.db import history_rows_create
    from lending.models import Installment, Loan

    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT max(id) FROM accounts_user), (SELECT max(id) FROM lending_loan)")
        first_user, first_loan = (last + 1 for last in cursor.fetchone())
    params = {
        "borrowers": args.borrowers,
        "events": args.events,
        "first_user": first_user,
        "card_type": ContentType.objects.get_for_model(Card).pk,
        "actions": ACTIONS,
        "action_count": len(ACTIONS),
    }
    steps = [
        ("borrowers", USERS),
        ("identities", IDENTITIES),
        ("cards", CARDS),
        ("debit mandates", MANDATES),
        ("loans", LOANS),
        ("installments", INSTALLMENTS),
        ("debit attempts", ATTEMPTS),
        ("notifications", NOTIFICATIONS),
        ("review cases", REVIEW_CASES),
        ("risk alerts", RISK_ALERTS),
    ]
    histories = [  # a "created" history row for each bench row
        ("user history", User.objects.filter(pk__gte=first_user), "registered"),
        ("card history", Card.objects.filter(reserved_phone_encrypted="bench"), "bound"),
        ("mandate history", Mandate.objects.filter(card__reserved_phone_encrypted="bench"), "created"),
        ("loan history", Loan.objects.filter(borrower_id__gte=first_user), "disbursed"),
        ("installment history", Installment.objects.filter(loan_id__gte=first_loan), "scheduled"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for name, sql in steps:
            began = time.perf_counter()
            cursor.execute(sql, params)
            print(f"{name:20} {cursor.rowcount:>11,} rows {time.perf_counter() - began:7.1f} s", flush=True)
        for name, rows, reason in histories:
            began = time.perf_counter()
            written = history_rows_create(rows, reason=reason, history_type="+")
            print(f"{name:20} {written:>11,} rows {time.perf_counter() - began:7.1f} s", flush=True)
        indexes = audit_secondary_indexes(cursor)
        for definition in indexes:
            cursor.execute(f"DROP INDEX {definition.split(' INDEX ')[1].split(' ON ')[0]}")
        began = time.perf_counter()
        cursor.execute(EVENTS, params)
        print(
            f"{'audit events':20} {cursor.rowcount:>11,} rows {time.perf_counter() - began:7.1f} s",
            flush=True,
        )
        began = time.perf_counter()
        for definition in indexes:
            cursor.execute(definition)
        print(
            f"{'audit indexes':20} {len(indexes):>11,} built {time.perf_counter() - began:6.1f} s", flush=True
        )
        began = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
        print(f"{'vacuum analyze':20} {'':>16} {time.perf_counter() - began:7.1f} s")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print(f"built {DATABASE} in {time.perf_counter() - started:.0f} s ({size})")
    connection.close()


if __name__ == "__main__":
    main()
