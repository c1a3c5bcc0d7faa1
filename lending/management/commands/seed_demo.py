"""Demo data for a newcomer's first look: a borrower with a verified identity, a bound sandbox
card and a car loan; a second borrower whose lost-phone request, face check passed, waits for
review; an officer and an auditor. Identities are checked with the FaceID simulator
(sandboxes/faceid), which must be running.

Idempotent: a second run creates nothing new and gives each demo staff member fresh backup
codes (the old ones may have been used). Refused unless DEBUG is on.
"""

from datetime import timedelta
from decimal import Decimal

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import PhoneChange, User
from accounts.policies import current_policy
from accounts.services import (
    borrower_create,
    identity_verify,
    phone_lost_face_finish,
    phone_lost_face_start,
    phone_lost_start,
    staff_backup_codes_reset,
    staff_create,
)
from accounts.services.phone_lost import phone_lost_face_wait
from audit.context import system_job
from cards.models import LIVE, Card
from cards.services import card_bind_confirm, card_bind_start
from lending.models import Loan
from lending.services import loan_create

DEMO_STAFF = (
    ("officer", "officer", "officer-demo-pass", "officer@lending.localhost"),
    ("auditor", "auditor", "auditor-demo-pass", "auditor@lending.localhost"),
    ("support", "support", "support-demo-pass", "support@lending.localhost"),
)
DEMO_BORROWER = {
    "phone": "+8613800138000",
    "password": "borrower-demo-pass",
    "real_name": "张三",
    "id_number": "110105199003071239",
}
DEMO_CARD = "6222020000000061234"  # sandbox ICBC debit card: every operation succeeds
# A second card whose debits fail for lack of money: chosen as the repayment card, the next
# collection fails and the borrower repays the overdue installment from **** 1234 (README).
DEMO_EMPTY_CARD = "6222020000000089995"
LOST_PHONE_BORROWER = {
    "phone": "+8613700137000",
    "password": "borrower-demo-pass",
    "real_name": "李四",
    "id_number": "310101198506152345",
    "new_phone": "+8613600136000",
}


class Command(BaseCommand):
    help = "Create the demo borrower, officer, auditor and support user (development only); print the logins."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo makes logins with known passwords; it runs only with DEBUG on.")
        with system_job("seed_demo"):
            self.stdout.write(self._ensure_borrower())
            self._ensure_lost_phone_case()
            for username, role, password, email in DEMO_STAFF:
                self.stdout.write(self._ensure_staff(username, role, password, email))

    @staticmethod
    def _borrower(demo) -> User:
        borrower = User.objects.filter(phone=demo["phone"]).first()
        if borrower is None:
            borrower = borrower_create(
                phone=demo["phone"],
                password=demo["password"],
                privacy=current_policy("privacy", settings.LANGUAGE_CODE),
                language=settings.LANGUAGE_CODE,
            )
            identity_verify(actor=borrower, real_name=demo["real_name"], id_number=demo["id_number"])
        return borrower

    @staticmethod
    def _bind_demo_card(borrower, number: str = DEMO_CARD) -> None:
        """Bind a demo card the real way, reading the bank's code from the sandbox bank's texts
        (its /sms/ page, as JSON)."""
        request = card_bind_start(actor=borrower, card_number=number, reserved_phone=str(borrower.phone))
        texts = httpx.get(
            f"{settings.BANK_HTTP_URL}/sandbox/sms",
            params={"sign_id": request.gateway_reference},
            timeout=10,
            trust_env=False,
        ).json()["messages"]
        code = texts[0]["code"]
        card_bind_confirm(
            actor=borrower, request=request, code=code, agreement=current_policy("debit_authorisation")
        )

    def _ensure_lost_phone_case(self) -> None:
        """A borrower who lost the phone: the request waits for the demo officer (once)."""
        demo = LOST_PHONE_BORROWER
        borrower = self._borrower(demo)
        if PhoneChange.objects.filter(user=borrower, path=PhoneChange.Path.LOST_PHONE).exists():
            return
        details = {key: demo[key] for key in ("phone", "password", "real_name", "id_number", "new_phone")}
        change = phone_lost_start(**details)
        phone_lost_face_wait(change=change)  # the code step needs the new phone itself
        check = phone_lost_face_start(
            change=change,
            consent=current_policy("biometrics", settings.LANGUAGE_CODE),
            return_url=f"{settings.SITE_URL}/accounts/phone/lost/face/",
        )
        # The simulator's liveness page, done as the borrower's browser would ("take a picture").
        done = check.liveness_url.split("/h5/liveness")[0] + "/h5/liveness/done"
        httpx.post(done, data={"token": check.biz_token, "source": "camera"}, timeout=10, trust_env=False)
        phone_lost_face_finish(change=change, biz_token=check.biz_token)

    def _ensure_borrower(self) -> str:
        demo = DEMO_BORROWER
        borrower = self._borrower(demo)
        if not Card.objects.filter(user=borrower, status__in=LIVE).exists():
            self._bind_demo_card(borrower)
        if not Card.objects.filter(user=borrower, status__in=LIVE, last4="9995").exists():
            self._bind_demo_card(borrower, DEMO_EMPTY_CARD)
        loan = Loan.objects.filter(borrower=borrower).first()
        if loan is None:
            loan = loan_create(
                actor=None,
                borrower=borrower,
                product=Loan.Product.CAR,
                principal=Decimal("80000.00"),
                annual_rate=Decimal("0.0888"),
                term_months=24,
            )
        due = loan.installments.get(number=1).due_date
        first_due, late = due.isoformat(), (due + timedelta(days=1)).isoformat()
        return "\n".join(
            [
                f"Borrower portal: {settings.SITE_URL}/accounts/login/",
                f"  mobile 138 0013 8000  password {demo['password']}",
                f"  SMS codes appear at {settings.SITE_URL}/dev/sms/ (the bank's at "
                f"{settings.BANK_HTTP_URL}/sms/)",
                "  Sandbox card **** 1234 (ICBC debit) repays a car loan; more test cards in the README.",
                f"  Collect its first installment: python manage.py run_autodebit --date {first_due}",
                "  Or make it overdue and repay it yourself: choose card **** 9995 (no money) as the",
                f"  repayment card under Cards, run: python manage.py run_autodebit --date {late}",
                "  then open the loan and repay now from **** 1234.",
                "A lost-phone request (137 0013 7000 -> 136 0013 6000) waits in the review queue.",
            ]
        )

    def _ensure_staff(self, username, role, password, email) -> str:
        user = User.objects.filter(username=username).first()
        if user is None:
            credentials = staff_create(
                actor=None, username=username, role=role, email=email, password=password
            )
            user, codes = credentials.user, credentials.backup_codes
        else:
            codes = staff_backup_codes_reset(actor=None, user=user)
        totp = TOTPDevice.objects.get(user=user)
        return "\n".join(
            [
                f"Back office {role}: {settings.SITE_URL}/admin/",
                f"  username {username}  password {password}",
                f"  authenticator app: {totp.config_url}",
                f"  or a backup code: {'  '.join(codes[:3])}",
            ]
        )
