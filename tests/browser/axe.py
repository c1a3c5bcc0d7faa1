"""Accessibility checks with axe-core (the npm package, installed by ``make test``: ``npm ci``)
injected into a Playwright page.

    from tests.browser.axe import assert_accessible
    assert_accessible(page)  # WCAG 2.x A and AA rules on what the page shows now

The script is evaluated through the DevTools protocol, so a page's Content-Security-Policy
(which refuses inline scripts) neither blocks it nor reports it.
"""

from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


@cache
def _source() -> str:
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `npm ci` (make test does) to install axe-core")
    return AXE.read_text(encoding="utf-8")


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
        }
        for violation in result["violations"]
    ]


def assert_accessible(page, **options) -> None:
    violations = axe_violations(page, **options)
    assert not violations, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5]) for v in violations
    )
