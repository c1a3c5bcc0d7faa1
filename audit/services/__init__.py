"""Every state change of the audit app: events, review cases, risk alerts."""

from audit.services.access import personal_data_reveal, personal_data_view_record
from audit.services.alerts import risk_alert_acknowledge, risk_alert_raise, risk_alert_resolve, risk_scan
from audit.services.cases import (
    ReviewActionFailed,
    ReviewRefused,
    review_case_approve_by_rule,
    review_case_cancel,
    review_case_close_cleared,
    review_case_decide,
    review_case_mark_seen,
    review_case_open,
    review_cases_escalate,
    review_cases_expire,
)
from audit.services.events import SubjectRef, UnmaskedDataError, record, record_many
from audit.services.exports import (
    ExportRefused,
    audit_export_download,
    audit_export_request,
    audit_export_run,
    audit_export_stream,
    export_check_allowed,
)
from audit.services.retention import ArchiveRefused, archivable_blocks, audit_events_archive, blocks_span
from audit.services.sealing import audit_block_seal, audit_events_seal

__all__ = [
    "ArchiveRefused",
    "archivable_blocks",
    "audit_events_archive",
    "blocks_span",
    "ExportRefused",
    "audit_export_download",
    "audit_export_request",
    "audit_export_run",
    "audit_export_stream",
    "export_check_allowed",
    "audit_block_seal",
    "audit_events_seal",
    "ReviewActionFailed",
    "ReviewRefused",
    "SubjectRef",
    "UnmaskedDataError",
    "personal_data_reveal",
    "personal_data_view_record",
    "record",
    "record_many",
    "review_case_approve_by_rule",
    "review_case_cancel",
    "review_case_close_cleared",
    "review_case_decide",
    "review_case_mark_seen",
    "review_case_open",
    "review_cases_escalate",
    "review_cases_expire",
    "risk_alert_acknowledge",
    "risk_alert_raise",
    "risk_alert_resolve",
    "risk_scan",
]
