"""The review queue and case page officers work in, and the risk alert list."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from audit import reviews, risk, selectors
from audit.models import ReviewCase, ReviewCaseSeen, ReviewDecision, RiskAlert, open_cases_first
from audit.services import (
    ReviewActionFailed,
    ReviewRefused,
    review_case_decide,
    review_case_mark_seen,
    risk_alert_acknowledge,
    risk_alert_resolve,
)
from lending.admin_tools import (
    AccessLoggedAdminMixin,
    CappedCountPaginator,
    ReadOnlyAdminMixin,
    note_action,
    object_pk,
    warn_if_masked,
)
from lending.times import local_datetime


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return reviews.choices()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class RiskFilter(admin.SimpleListFilter):
    title = _("risk")
    parameter_name = "risk"

    def lookups(self, request, model_admin):
        return (("high", _("High (two approvals)")), ("normal", _("Normal")))

    def queryset(self, request, queryset):
        high = Q(risk_score__gte=settings.REVIEW_HIGH_RISK_SCORE)
        return {"high": queryset.filter(high), "normal": queryset.exclude(high)}.get(self.value(), queryset)


class SlaFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return (("breached", _("Breached")), ("within", _("Within SLA")))

    def queryset(self, request, queryset):
        breached = Q(status=ReviewCase.Status.OPEN, sla_due_at__lt=timezone.now())
        return {"breached": queryset.filter(breached), "within": queryset.exclude(breached)}.get(
            self.value(), queryset
        )


class RuleFilter(admin.SimpleListFilter):
    """Risk rules by what they look for (the stored rule is a code)."""

    title = _("rule")
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return [(rule.code, rule.reason) for rule in risk.RULES]

    def queryset(self, request, queryset):
        return queryset.filter(rule=self.value()) if self.value() else queryset


EVIDENCE_LABELS = {
    "count": _("Events counted"),
    "window_hours": _("Window (hours)"),
}


def _number(value):
    return f"{value:g}" if isinstance(value, float) else value


class DecisionForm(forms.Form):
    verdict = forms.ChoiceField(choices=ReviewDecision.Verdict.choices, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


@admin.register(ReviewCase)
class ReviewCaseAdmin(AccessLoggedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "case_number",
        "kind_label",
        "borrower",
        "risk_score",
        "status",
        "approvals",
        "opened_at",
        "sla",
    )
    list_filter = ("status", KindFilter, RiskFilter, SlaFilter)
    list_select_related = ("borrower",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 25  # rows are most of the list's cost, about 0.35 ms each (bench/profile_page.py)
    change_form_template = "admin/audit/reviewcase/change_form.html"
    fields = (
        "kind_label",
        "borrower",
        "requested_by",
        "risk_score",
        "approvals_needed",
        "status",
        "opened_at",
        "sla_due_at",
        "escalated_at",
        "decided_at",
        "outcome_reason",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        seen = ReviewCaseSeen.objects.filter(case=OuterRef("pk"), officer=request.user)
        approvals = (
            ReviewDecision.objects.filter(case=OuterRef("pk"), verdict=ReviewDecision.Verdict.APPROVE)
            .values("case")
            .annotate(n=Count("pk"))
            .values("n")
        )
        # Per listed case, not a GROUP BY over every case: the page reads 100 rows of the index.
        return (
            super()
            .get_queryset(request)
            .annotate(approvals_given=Coalesce(Subquery(approvals), 0), seen=Exists(seen))
        )

    def get_ordering(self, request):
        return [open_cases_first().asc(), "opened_at"]

    @admin.display(description=_("case"), ordering="pk")
    def case_number(self, obj):
        if obj.is_open and not obj.seen:
            return format_html('#{} <strong class="new-case">{}</strong>', obj.pk, _("new"))
        return f"#{obj.pk}"

    @admin.display(description=_("kind"))
    def kind_label(self, obj):
        return reviews.get(obj.kind).label

    @admin.display(description=_("approvals"))
    def approvals(self, obj):
        return f"{obj.approvals_given}/{obj.approvals_needed}"

    @admin.display(description=_("SLA"), ordering="sla_due_at")
    def sla(self, obj):
        if obj.sla_breached:
            flag = _("escalated") if obj.escalated_at else _("breached")
            return format_html('<strong class="sla-breached">{}</strong>', flag)
        return local_datetime(obj.sla_due_at) if obj.is_open else "—"

    def get_urls(self):
        decide = self.admin_site.admin_view(self.decide_view)
        return [path("<id:case_id>/decide/", decide, name="audit_reviewcase_decide"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        case = get_object_or_404(
            ReviewCase.objects.select_related("borrower", "requested_by"), pk=object_pk(ReviewCase, object_id)
        )
        review_case_mark_seen(officer=request.user, case=case)
        can_decide = case.is_open and request.user.has_perm("audit.decide_reviewcase")
        extra = {
            "case": case,
            "kind_label": reviews.get(case.kind).label,
            "summary": reviews.get(case.kind).summary(case),
            "reasons": [(risk.describe(r["code"], r["text"]), r.get("score", 0)) for r in case.reasons],
            "decisions": case.decisions.select_related("officer").order_by("decided_at"),
            "timeline": selectors.borrower_timeline(case.borrower_id) if case.borrower_id else [],
            "subject_history": selectors.subject_history(case),
            "decision_form": DecisionForm() if can_decide else None,
            "decide_url": reverse("admin:audit_reviewcase_decide", args=[case.pk]),
        }
        return super().change_view(
            request, object_id, form_url, extra_context={**extra, **(extra_context or {})}
        )

    def decide_view(self, request, case_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = get_object_or_404(ReviewCase, pk=case_id)
        form = DecisionForm(request.POST)
        back = redirect("admin:audit_reviewcase_change", case.pk)
        if not form.is_valid():
            self.message_user(request, _("Give the reason for your decision."), messages.ERROR)
            return back
        try:
            case = review_case_decide(actor=request.user, case_id=case.pk, **form.cleaned_data)
        except (ReviewRefused, ReviewActionFailed) as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return back
        warn_if_masked(request, form.cleaned_data["reason"])
        if case.is_open:
            self.message_user(
                request, _("Your approval is recorded; a second officer must approve too."), messages.INFO
            )
        else:
            self.message_user(
                request,
                _("Case #%(id)s is %(status)s.")
                % {"id": case.pk, "status": case.get_status_display().lower()},
                messages.SUCCESS,
            )
        return redirect("admin:audit_reviewcase_changelist")


@admin.register(RiskAlert)
class RiskAlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("raised_at", "rule_label", "severity", "subject_label", "status", "handled_by")
    list_filter = ("status", "severity", RuleFilter, ("raised_at", admin.DateFieldListFilter))
    list_select_related = ("handled_by",)
    show_full_result_count = False
    actions = ["acknowledge", "resolve"]
    fields = (
        "rule_label",
        "severity",
        "subject_label",
        "borrower",
        "window_start",
        "evidence_list",
        "status",
        "raised_at",
        "handled_by",
        "handled_at",
        "note",
        "resolution",
    )
    readonly_fields = fields

    @admin.display(description=_("rule"), ordering="rule")
    def rule_label(self, alert):
        """What the rule looks for, in the reader's language (the stored reason is in the scan's)."""
        return risk.describe(alert.rule, alert.reason)

    @admin.display(description=_("evidence"))
    def evidence_list(self, alert):
        if not alert.evidence:
            return "—"
        items = [
            (
                EVIDENCE_LABELS.get(key, key.replace("_", " ")),
                f"{value:g}" if isinstance(value, float) else value,
            )
            for key, value in alert.evidence.items()
        ]
        return format_html('<ul class="evidence">{}</ul>', format_html_join("", "<li>{}: {}</li>", items))

    def has_handle_permission(self, request):
        return request.user.has_perm("audit.change_riskalert")

    @admin.action(description=_("Acknowledge the selected alerts"), permissions=["handle"])
    def acknowledge(self, request, queryset):
        return note_action(
            self,
            request,
            queryset,
            title=_("Acknowledge"),
            apply=lambda alert, note: risk_alert_acknowledge(actor=request.user, alert=alert, note=note),
        )

    @admin.action(description=_("Resolve the selected alerts"), permissions=["handle"])
    def resolve(self, request, queryset):
        return note_action(
            self,
            request,
            queryset,
            title=_("Resolve"),
            apply=lambda alert, note: risk_alert_resolve(actor=request.user, alert=alert, note=note),
        )
