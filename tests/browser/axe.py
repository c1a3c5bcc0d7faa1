"""axe-core in Playwright pages: the npm package's ``axe.min.js`` (package.json; ``make test``
installs it with ``npm ci``).

``axe_in(context)`` adds it to a browser context as an init script, so it is in every page the
context opens without an inline script the Content-Security-Policy would refuse; on a page of
another origin (the FaceID simulator's hosted page) ``axe_violations`` evaluates it through the
DevTools protocol instead. ``serious_violations(page)`` returns one line per serious or critical
violation (rule, what is wrong, where); ``assert_accessible(page)`` fails on any WCAG A/AA one.
"""

from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")
WCAG_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
BLOCKING = {"serious", "critical"}


def _missing() -> None:
    pytest.fail(f"{AXE} is missing: run `npm ci` (make test does) to install axe-core")


@cache
def _source() -> str:
    if not AXE.exists():
        _missing()
    return AXE.read_text(encoding="utf-8")


def axe_in(context) -> None:
    if not AXE.exists():
        _missing()
    context.add_init_script(path=str(AXE))


def axe_violations(page, *, tags=WCAG_AA, disable: tuple[str, ...] = ()) -> list[dict]:
    """The axe-core violations on the page as it is now: [{id, impact, help, nodes: [html]}]."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_source())
    options = {
        "runOnly": {"type": "tag", "values": list(tags)},
        "rules": {rule: {"enabled": False} for rule in disable},
    }
    result = page.evaluate("options => axe.run(document, options)", options)
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["html"] for node in violation["nodes"]],
            "targets": [" ".join(node["target"]) for node in violation["nodes"]],
        }
        for violation in result["violations"]
    ]


def serious_violations(page) -> list[str]:
    return [
        f"{page.url} {v['id']} ({v['impact']}): {v['help']} at " + ", ".join(v["targets"][:5])
        for v in axe_violations(page, tags=TAGS)
        if v["impact"] in BLOCKING
    ]


def assert_accessible(page, **options) -> None:
    violations = axe_violations(page, **options)
    assert not violations, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5]) for v in violations
    )
