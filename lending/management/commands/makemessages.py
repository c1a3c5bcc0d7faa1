"""Django's ``makemessages``, reading the portal's Jinja2 templates too.

Django turns its own templates into the gettext calls they make (``templatize``) for xgettext to
read as Python; a portal template (``templates/portal/``) is turned into its calls the same way,
found by Jinja2's extractor: ``{{ _("Sign out") }}``, ``{% trans %}``, ``{% pluralize %}``,
``pgettext()``. Each call stays on its template's line, so the catalogue's references point there.
"""

from pathlib import Path

from django.core.management.commands import makemessages

from lending.portal_templates import DIRECTORY, translatable_texts


class PortalBuildFile(makemessages.BuildFile):
    @property
    def is_portal_template(self) -> bool:
        path = Path(self.path).resolve()
        return self.domain == "django" and path.is_relative_to(Path.cwd() / DIRECTORY)

    def preprocess(self):
        if not self.is_portal_template:
            return super().preprocess()
        source = Path(self.path).read_text(encoding="utf-8")
        lines = [""] * (source.count("\n") + 1)
        for line, function, message, comments in translatable_texts(source):
            arguments = [part for part in (message if isinstance(message, tuple) else (message,)) if part]
            lines[line - 1] += f"{function}({', '.join(map(repr, arguments))}); "
            if comments and line > 1:  # a comment closes the line before, as xgettext expects
                lines[line - 2] += "".join(f"# Translators: {comment} " for comment in comments)
        Path(self.work_path).write_text("\n".join(lines), encoding="utf-8")


class Command(makemessages.Command):
    build_file_class = PortalBuildFile
