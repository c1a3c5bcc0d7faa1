"""Auditors' exports in the back office: the export form, the jobs with progress, downloads."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.exporting.sources import SOURCES
from audit.forms import AuditExportForm
from audit.models import AuditExport
from audit.services import ExportRefused, audit_export_download, audit_export_request, audit_export_stream
from lending.admin_tools import ReadOnlyAdminMixin, object_pk


def rows_at_most(spec, limit: int) -> int:
    """How many rows ``spec`` selects, counting no further than ``limit`` + 1."""
    return sum(SOURCES[name].queryset(spec)[: limit + 1].count() for name in spec.sources)


@admin.register(AuditExport)
class AuditExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "requested_by", "requested_at", "what", "status", "progress", "download")
    list_filter = ("status",)
    list_select_related = ("requested_by",)
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("audit.add_auditexport")

    def get_queryset(self, request):
        exports = super().get_queryset(request)
        if request.user.has_perm("audit.download_any_auditexport"):
            return exports
        return exports.filter(requested_by=request.user)

    def get_urls(self):
        download = self.admin_site.admin_view(self.download_view)
        return [
            path("<id:export_id>/download/", download, name="audit_auditexport_download"),
            *super().get_urls(),
        ]

    @admin.display(description=_("what"))
    def what(self, export):
        spec = export.spec
        names = ", ".join(str(SOURCES[name].label) for name in spec["sources"])
        return f"{names} · {spec['date_from']} – {spec['date_to']} · {spec['format'].upper()}"

    @admin.display(description=_("progress"))
    def progress(self, export):
        return f"{export.percent}%"

    @admin.display(description=_("download"))
    def download(self, export):
        if export.status != AuditExport.Status.DONE:
            return "—"
        url = reverse("admin:audit_auditexport_download", args=[export.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    def add_view(self, request, form_url="", extra_context=None):
        """The export form: a small export downloads at once, a large one becomes a job."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AuditExportForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            spec = form.spec()
            try:
                limit = settings.AUDIT_EXPORT_INLINE_ROWS
                if not form.cleaned_data["background"] and rows_at_most(spec, limit) <= limit:
                    return self._stream(request, spec)
                export = audit_export_request(actor=request.user, spec=spec)
            except ExportRefused as exc:
                form.add_error(None, exc.as_form_error())
            else:
                self.message_user(
                    request, _("Export %(export)s queued.") % {"export": export}, messages.SUCCESS
                )
                return redirect(reverse("admin:audit_auditexport_change", args=[export.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Export the audit trail"),
            "form": form,
            "opts": self.model._meta,
            "inline_rows": settings.AUDIT_EXPORT_INLINE_ROWS,
        }
        return TemplateResponse(request, "admin/audit/auditexport/export_form.html", context)

    def _stream(self, request, spec):
        chunks = audit_export_stream(actor=request.user, spec=spec)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(chunks, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="audit-export-{stamp}.zip"'
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The job: its filters, a progress bar (the page reloads while it runs) and the download."""
        if not self.has_view_permission(request) or request.method != "GET":
            raise PermissionDenied  # nothing about a job can be changed
        export = get_object_or_404(
            self.get_queryset(request), pk=object_pk(AuditExport, object_id)
        )  # others' jobs: not found
        context = {
            **self.admin_site.each_context(request),
            "title": _("Audit export %(export)s") % {"export": export},
            "export": export,
            "sources": [SOURCES[name].label for name in export.spec["sources"]],
            "opts": self.model._meta,
            "running": export.status in (AuditExport.Status.QUEUED, AuditExport.Status.RUNNING),
        }
        return TemplateResponse(request, "admin/audit/auditexport/detail.html", context)

    def download_view(self, request, export_id):
        try:
            export = audit_export_download(actor=request.user, export_id=export_id)
        except AuditExport.DoesNotExist:
            raise PermissionDenied from None
        except ExportRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return redirect(reverse("admin:audit_auditexport_changelist"))
        return FileResponse(
            export.archive.open("rb"), as_attachment=True, filename=f"audit-export-{export.pk}.zip"
        )
