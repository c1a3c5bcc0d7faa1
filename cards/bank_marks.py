"""How a bank looks on a card tile: its colour (a CSS class, styles live in site.css) and a
simple mark drawn as one character of its Chinese short name in a circle (no copied logos)."""

MARKS = {
    "ICBC": "工",
    "CCB": "建",
    "ABC": "农",
    "BOC": "中",
    "BOCOM": "交",
    "CITIC": "信",
    "CMB": "招",
    "PSBC": "邮",
}


def bank_mark(bank_code: str) -> str:
    return MARKS.get(bank_code, "¥")
