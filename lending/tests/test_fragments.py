"""Page parts rendered once per language (lending/fragments.py): each language gets its own."""

import pytest
from django.conf import settings

from accounts.tests.factories import BorrowerFactory

pytestmark = pytest.mark.django_db


def test_the_privacy_centres_tables_follow_the_language_of_each_request(client, sign_in):
    sign_in(BorrowerFactory())
    seen = []
    for language in ["zh-hans", "en", "zh-hans", "en"]:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        page = client.get("/privacy/").content.decode()
        seen.append(("我们持有的信息及保存期限" in page, "短信服务商" in page, "The SMS provider" in page))
    chinese, english = (True, True, False), (False, False, True)
    assert seen == [chinese, english, chinese, english]
