import pytest

from accounts.tests.factories import BorrowerFactory
from cards.models import Card, CardBindRequest
from cards.tests import sandbox_cards
from cards.tests.conftest import RESERVED, allow_next_code

pytestmark = pytest.mark.django_db

CARD_URLS = ["/cards/{id}/repayment/", "/cards/{id}/unbind/"]
CARD_POSTS = ["/cards/{id}/code/", "/cards/{id}/repayment/", "/cards/{id}/unbind/", "/cards/{id}/swap/"]


def test_every_card_page_needs_a_verified_borrower(client):
    for url in [
        "/cards/",
        "/cards/bind/",
        "/cards/unbind-all/",
        "/cards/1/unbind/",
        "/cards/bind/1/confirm/",
    ]:
        assert client.get(url)["Location"].startswith("/accounts/login/")
    client.force_login(BorrowerFactory())
    assert client.get("/cards/")["Location"].startswith("/accounts/login/")


def test_bind_and_confirm_through_the_pages(sign_in, deliver, bank, borrower):
    client = sign_in(borrower)
    with deliver():
        response = client.post(
            "/cards/bind/", {"card_number": "6222 0200 0000 0061 234", "reserved_phone": RESERVED}
        )
    request = CardBindRequest.objects.get()
    assert response["Location"] == f"/cards/bind/{request.pk}/confirm/"
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    form = page.context["form"]
    data = {
        "code": bank.latest_code(),
        "agreement_version": form.policy.version,
        "agreement_sha256": form.policy.sha256,
        "accept_agreement": "on",
    }
    assert client.post(response["Location"], data, HTTP_ACCEPT_LANGUAGE="en")["Location"] == "/cards/"
    listing = client.get("/cards/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "**** 1234" in listing and "Repayment card" in listing
    assert sandbox_cards.GOOD_DEBIT not in listing


@pytest.mark.parametrize(
    "number, message",
    [
        ("abcd", "digits only"),
        ("1" * 30, "13 to 19"),
        ("4111111111111111", "do not recognise"),
        ("6222020000000061235", "not valid"),
        ("", "required"),
    ],
)
def test_bad_card_numbers_are_refused_on_the_form(sign_in, borrower, number, message):
    response = sign_in(borrower).post(
        "/cards/bind/", {"card_number": number, "reserved_phone": RESERVED}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert not CardBindRequest.objects.exists()
    assert number == "" or number not in response.content.decode()  # never echoed back


def test_a_refused_card_number_is_not_echoed_in_the_form(sign_in, borrower):
    response = sign_in(borrower).post(
        "/cards/bind/",
        {"card_number": sandbox_cards.FOUR_ELEMENTS_FAIL, "reserved_phone": RESERVED},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert "could not match" in page and sandbox_cards.FOUR_ELEMENTS_FAIL not in page


def test_wrong_and_bad_bank_codes_show_on_the_confirm_page(sign_in, deliver, bank, borrower):
    client = sign_in(borrower)
    with deliver():
        client.post("/cards/bind/", {"card_number": sandbox_cards.GOOD_DEBIT, "reserved_phone": RESERVED})
    url = f"/cards/bind/{CardBindRequest.objects.get().pk}/confirm/"
    form = client.get(url).context["form"]
    data = {
        "agreement_version": form.policy.version,
        "agreement_sha256": form.policy.sha256,
        "accept_agreement": "on",
    }
    code = bank.latest_code()
    for bad in ["abcdef", f"{(int(code) + 1) % 10**6:06d}"]:
        response = client.post(url, {**data, "code": bad})
        assert response.status_code == 200 and response.context["form"].errors
    response = client.post(url, {**data, "code": code, "accept_agreement": ""})
    assert response.status_code == 200 and not Card.objects.exists()  # the agreement must be accepted


def test_identity_is_asked_for_first(sign_in):
    page = sign_in(BorrowerFactory()).get("/cards/bind/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Verify your identity first" in page


@pytest.mark.parametrize("url", CARD_URLS)
def test_another_borrowers_card_is_404_on_get(sign_in, bind, borrower, url):
    card = bind(borrower)
    intruder = sign_in(BorrowerFactory())
    assert intruder.get(url.format(id=card.pk)).status_code == 404


@pytest.mark.parametrize("url", CARD_POSTS)
def test_another_borrowers_card_is_404_on_post(sign_in, bind, borrower, url):
    card = bind(borrower)
    intruder = sign_in(BorrowerFactory())
    response = intruder.post(
        url.format(id=card.pk), {"purpose": "card_unbind", "code": "123456", "new_card": card.pk}
    )
    assert response.status_code == 404
    assert Card.objects.get(pk=card.pk).status == "active"


def test_another_borrowers_bind_request_is_404(sign_in, deliver, borrower):
    with deliver():
        sign_in(borrower).post(
            "/cards/bind/", {"card_number": sandbox_cards.GOOD_DEBIT, "reserved_phone": RESERVED}
        )
    intruder = sign_in(BorrowerFactory())
    assert intruder.get(f"/cards/bind/{CardBindRequest.objects.get().pk}/confirm/").status_code == 404


def test_unbind_through_the_pages(sign_in, bind, deliver, last_code, borrower):
    card = bind(borrower)
    client = sign_in(borrower)
    allow_next_code()
    with deliver():
        client.post(f"/cards/{card.pk}/code/", {"purpose": "card_unbind"})
    with deliver():
        response = client.post(f"/cards/{card.pk}/unbind/", {"code": last_code(RESERVED)})
    assert response["Location"] == "/cards/"
    assert Card.objects.get(pk=card.pk).status == "unbound"


def test_the_unbind_page_offers_a_swap_for_the_repayment_card_of_a_loan(sign_in, bind, borrower, make_loan):
    card = bind(borrower)
    bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    make_loan(borrower, principal="1000.00")
    page = sign_in(borrower).get(f"/cards/{card.pk}/unbind/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["must_swap"] and page.context["form"] is None
    assert "Swap and unbind" in page.content.decode()


def test_a_bad_purpose_or_new_card_is_404_not_500(sign_in, bind, borrower):
    card = bind(borrower)
    client = sign_in(borrower)
    assert client.post(f"/cards/{card.pk}/code/", {"purpose": "nonsense"}).status_code == 404
    assert (
        client.post(f"/cards/{card.pk}/code/", {"purpose": "card_swap", "new_card": "x' OR 1=1"}).status_code
        == 404
    )


@pytest.mark.parametrize("new_card", ["²", "١", "9" * 1_000_000, "9" * 19, "-1", " 1"])
def test_a_new_card_id_out_of_bounds_or_in_other_digits_is_404_not_500(sign_in, bind, borrower, new_card):
    card = bind(borrower)
    client = sign_in(borrower)
    response = client.post(f"/cards/{card.pk}/code/", {"purpose": "card_swap", "new_card": new_card})
    assert response.status_code == 404


@pytest.mark.parametrize("card_id", ["9" * 19, "9" * 5000, "99999999999999999"])
def test_a_card_id_in_the_url_out_of_bounds_is_404_not_500(sign_in, borrower, card_id):
    client = sign_in(borrower)
    assert client.get(f"/cards/{card_id}/unbind/").status_code == 404
    assert client.get(f"/loans/{card_id}/").status_code == 404
    assert client.post(f"/cards/{card_id}/code/", {"purpose": "card_unbind"}).status_code == 404


def test_the_card_that_already_repays_is_not_offered_again_and_no_code_is_sent(
    sign_in, bind, borrower, sms_outbox
):
    card = bind(borrower)
    client = sign_in(borrower)
    sent = len(sms_outbox)
    response = client.post(
        f"/cards/{card.pk}/code/", {"purpose": "card_repayment"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response["Location"] == "/cards/" and len(sms_outbox) == sent
    page = client.get(f"/cards/{card.pk}/repayment/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "already repays your loans" in page.content.decode()


def test_card_pages_render_in_both_languages(sign_in, bind, borrower):
    bind(borrower)  # the first card bound repays
    card = bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    client = sign_in(borrower)
    for language in ("zh-hans", "en"):
        for url in [
            "/cards/",
            "/cards/bind/",
            "/cards/unbind-all/",
            f"/cards/{card.pk}/unbind/",
            f"/cards/{card.pk}/repayment/",
        ]:
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, url


def test_the_card_list_runs_the_same_queries_for_one_card_and_for_five(sign_in, bind, borrower, settings):
    settings.BIND_STARTS_PER_RESERVED_PHONE_DAY = 5  # five cards with one reserved phone
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = sign_in(borrower)
    bind(borrower)
    with CaptureQueriesContext(connection) as one:
        client.get("/cards/")
    for number in (
        sandbox_cards.OTHER_GOOD_DEBIT,
        sandbox_cards.THIRD_GOOD_DEBIT,
        sandbox_cards.CMB_DEBIT_16,
        sandbox_cards.GOOD_CREDIT,
    ):
        bind(borrower, number)
    with CaptureQueriesContext(connection) as five:
        assert "**** 1234" in client.get("/cards/").content.decode()
    assert len(five) == len(one) <= 12


def test_the_swap_page_asks_for_the_replacement_card_once(sign_in, bind, borrower, make_loan):
    card = bind(borrower)
    bind(borrower, sandbox_cards.OTHER_GOOD_DEBIT)
    make_loan(borrower, principal="1000.00")
    page = sign_in(borrower).get(f"/cards/{card.pk}/unbind/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count('name="new_card"') == 1 and page.count("Card that takes over repayments") == 1
