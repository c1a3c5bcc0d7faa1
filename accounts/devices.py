"""A device as a person reads it ("Chrome Mobile on Android 14") from a User-Agent header, parsed
by ua-parser (the uap-core rules that browsers' own statistics use)."""

from functools import lru_cache

import ua_parser
from django.utils.translation import gettext as _


def device_label(user_agent: str) -> str:
    if not user_agent:
        return ""
    browser, system = _parsed(user_agent[:512])
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("Unknown device")


@lru_cache(maxsize=1024)
def _parsed(user_agent: str) -> tuple[str, str]:
    result = ua_parser.parse(user_agent)
    browser = result.user_agent.family if result.user_agent and result.user_agent.family != "Other" else ""
    system = ""
    if result.os and result.os.family != "Other":
        system = " ".join(part for part in (result.os.family, result.os.major) if part)
    return browser, system
