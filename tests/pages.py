"""Comparing two rendered pages: what differs per request anyway taken out."""

import re

PER_REQUEST = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), ""),
    # the resend button's countdown: when another code may be asked for, to the second
    (re.compile(r'data-enable-at="\d+"'), 'data-enable-at="T"'),
    (re.compile(r"<span data-seconds>\d+</span>"), "<span data-seconds>S</span>"),
    (re.compile(r"(valid until|前有效|有效期至) ?\d\d:\d\d"), r"\1 HH:MM"),
]


def comparable(html: str) -> str:
    for pattern, replacement in PER_REQUEST:
        html = pattern.sub(replacement, html)
    return html
