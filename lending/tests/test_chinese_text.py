"""Chinese text uses full-width punctuation (，：；？！（）), never the ASCII , : ; ? ! ( ) that
English uses: in the zh_Hans catalogue's translations and in Chinese written into templates.

A mark counts as Chinese when the nearest non-space character on either side of it is a Chinese
character or full-width punctuation. Placeholders (%(name)s, %s, {{ name }}), HTML tags, URLs and
e-mail addresses are not text, so "%(id)s(%(kind)s)" or "E.164" or "12:30" stay as they are.
"""

import re
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Published policy versions: a consent records the SHA-256 of the exact text shown
# (accounts/policies.py), so their text is never edited; a new version is a new file.
PUBLISHED_POLICIES = {
    "policies/debit_authorisation/2026-11.zh-hans.html",
    "policies/marketing/2026-11.zh-hans.html",
    "policies/privacy/2026-11.zh-hans.html",
}

FULL_WIDTH = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}
NOT_TEXT = re.compile(
    r"%\([^)]*\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z%]"  # %(name)s
    r"|%[#0 +-]*\d*(?:\.\d+)?[sdifrxXeEgGc%]"  # %s %d %%
    r"|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}"  # template variables, tags, comments
    r"|<[^<>]*>"  # HTML tags and their attributes
    r"|https?://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+"  # URLs
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"  # e-mail addresses
    r"|\\."  # escapes in the .po file (\n, \"): a line break is not a neighbour
)
ENTRY = re.compile(r'^(msgstr(?:\[\d+\])?) "(.*)"\n((?:"(?:.*)"\n)*)', re.MULTILINE)


def chinese(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK ideographs
        or 0x3400 <= code <= 0x4DBF
        or 0x3000 <= code <= 0x303F  # 。、【】《》…
        or 0xFF00 <= code <= 0xFFEF  # ，：；？！（）
        or char in "“”‘’"
    )


def half_width_in_chinese(text: str) -> list[str]:
    """Each ASCII mark in ``text`` that sits in Chinese, shown with its surroundings."""
    masked = NOT_TEXT.sub(lambda match: "\0" * len(match.group()), text)

    def next_to_chinese(i: int, step: int) -> bool:
        i += step
        while 0 <= i < len(masked) and masked[i] == " ":
            i += step
        return 0 <= i < len(masked) and chinese(masked[i])

    found = [
        f"{text[max(i - 8, 0) : i]}[{char}→{FULL_WIDTH[char]}]{text[i + 1 : i + 9]}"
        for i, char in enumerate(masked)
        if char in FULL_WIDTH and (next_to_chinese(i, -1) or next_to_chinese(i, +1))
    ]
    # A pair of parentheses is one width: no "（...)" or "(...）".
    opened = []
    for i, char in enumerate(masked):
        if char in "(（":
            opened.append((i, char))
        elif char in ")）" and opened:
            start, opening = opened.pop()
            if (opening == "(") != (char == ")"):
                found.append(f"mixed parentheses: {text[start : i + 1]}")
    return found


def translations() -> list[tuple[int, str]]:
    """(line, text) of every msgstr in the zh_Hans catalogue, continued lines joined."""
    source = CATALOGUE.read_text(encoding="utf-8")
    return [
        (
            source.count("\n", 0, match.start()) + 1,
            match.group(2) + "".join(re.findall(r'"(.*)"', match.group(3))),
        )
        for match in ENTRY.finditer(source)
    ]


def test_the_checker_tells_chinese_punctuation_from_placeholders_numbers_and_latin():
    assert half_width_in_chinese("请重新阅读下方内容,谢谢") == ["重新阅读下方内容[,→，]谢谢"]
    assert len(half_width_in_chinese("更换手机号(原号码)")) == 2  # both parentheses
    assert half_width_in_chinese("冻结:%(text)s") and half_width_in_chinese("%(object)s: 已完成")
    assert half_width_in_chinese("案件 #%(id)s（%(kind)s)") == ["mixed parentheses: （%(kind)s)"]
    for fine in [
        "审核案件 #%(id)s(%(kind)s)",
        "E.164 格式，例如 +8613800138000",
        "登录于 12:30，金额 1,000 元",
        '<a href="https://example.com/a?b=1">帮助</a>',
        "联系 help@example.com，谢谢",
        "您好！请在（可选）处填写：姓名；电话？",
        "Sign in, then: pay (now)",
        "案件：%(id)s\\n风险分：%(score)s",
    ]:
        assert half_width_in_chinese(fine) == [], fine


def test_the_chinese_catalogue_uses_full_width_punctuation():
    entries = translations()
    assert len(entries) > 1000  # the catalogue was read
    offending = [
        f"django.po:{line}: {text}\n    " + "\n    ".join(found)
        for line, text in entries
        if (found := half_width_in_chinese(text))
    ]
    assert not offending, f"{len(offending)} Chinese translations use ASCII punctuation:\n" + "\n".join(
        offending
    )


def test_chinese_written_in_templates_uses_full_width_punctuation():
    offending = []
    for path in sorted(TEMPLATES.rglob("*")):
        name = path.relative_to(TEMPLATES).as_posix()
        if path.suffix not in (".html", ".txt") or name in PUBLISHED_POLICIES:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if found := half_width_in_chinese(line):
                offending.append(f"{name}:{number}: " + "; ".join(found))
    assert not offending, "\n".join(offending)
