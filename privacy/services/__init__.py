"""Every state change of the privacy app, one function each (DESIGN.md section 7)."""

from privacy.services.closure import (
    ClosureRefused,
    account_close,
    account_closure_cancel,
    account_closure_request,
    account_closures_complete,
    closure_blockers,
    pending_closure,
)
from privacy.services.codes import privacy_code_send
from privacy.services.consents import ConsentRefused, consent_give, consent_withdraw
from privacy.services.copies import (
    DataCopyRefused,
    data_copies_expire,
    data_copy_build,
    data_copy_download,
    data_copy_request,
)

__all__ = [
    "ClosureRefused",
    "ConsentRefused",
    "DataCopyRefused",
    "account_close",
    "account_closure_cancel",
    "account_closure_request",
    "account_closures_complete",
    "closure_blockers",
    "consent_give",
    "consent_withdraw",
    "data_copies_expire",
    "data_copy_build",
    "data_copy_download",
    "data_copy_request",
    "pending_closure",
    "privacy_code_send",
]
