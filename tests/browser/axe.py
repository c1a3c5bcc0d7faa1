"""axe-core in Playwright pages: the npm package's ``axe.min.js`` (package.json; ``make test``
installs it with ``npm ci``), added to a browser context as an init script, so it is in every page
the context opens without an inline script the Content-Security-Policy would refuse.

``serious_violations(page)`` runs axe on the page as it is and returns one line per serious or
critical violation (rule, what is wrong, where), an empty list when there are none.
"""

from pathlib import Path

import pytest
from django.conf import settings

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = {"serious", "critical"}


def axe_in(context) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make test does) to install axe-core")
    context.add_init_script(path=str(AXE))


def serious_violations(page) -> list[str]:
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [
        f"{page.url} {violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in result["violations"]
        if violation["impact"] in BLOCKING
    ]
