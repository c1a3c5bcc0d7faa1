"""The signed-in borrower's own account: overview, identity, password, security, devices, inbox."""

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from accounts import selectors
from accounts.forms import IdentityForm, PasswordChangeForm
from accounts.policies import CURRENT, current_policy
from accounts.services import (
    account_freeze,
    ensure_not_frozen,
    identity_verify,
    notifications_mark_read,
    password_change,
    password_check,
)
from api import present
from api.auth import require_recent_password
from api.models import DeviceToken
from api.routes.auth import ERRORS, NEW_PASSWORD, valid
from api.schemas import (
    DeviceList,
    Done,
    EventPage,
    IdentityIn,
    IdentityOut,
    MeOut,
    NotificationPage,
    ObjectId,
    PasswordChangeIn,
    PolicyOut,
)
from api.services import device_token_keep, device_token_revoke, device_tokens_revoke_all, live_tokens

router = Router(tags=["account"])


@router.get("/me", response={200: MeOut, **ERRORS})
def me(request):
    user = request.auth.user
    return {
        "phone": user.masked_phone,
        "language": user.language,
        "frozen": user.is_frozen,
        "identity": present.identity(selectors.identity_of(user)),
        "last_phone_change_at": selectors.last_phone_change_at(user),
        "unread_notifications": user.unread_notifications,
    }


@router.get("/policies/{document}", auth=None, response={200: PolicyOut, **ERRORS})
def policy(request, document: str):
    """A policy's current text in the request's language, with the version and hash to accept."""
    if document not in CURRENT:
        raise Http404
    return present.policy(current_policy(document))


@router.get("/identity", response={200: IdentityOut, **ERRORS})
def identity(request):
    found = selectors.identity_of(request.auth.user)
    if found is None:
        raise Http404
    return present.identity(found)


@router.post("/identity", response={201: IdentityOut, **ERRORS})
def identity_submit(request, payload: IdentityIn):
    """Verify the real name and resident ID number (the password typed again first)."""
    user = request.auth.user
    ensure_not_frozen(user)
    require_recent_password(request)
    data = valid(IdentityForm(payload.dict()))
    return Status(201, present.identity(identity_verify(actor=user, **data)))


@router.post("/password", response={200: Done, **ERRORS})
def password_change_view(request, payload: PasswordChangeIn):
    """Change the password; every other web session and device token ends."""
    user = request.auth.user
    form = PasswordChangeForm(
        {
            "old_password": payload.old_password,
            "new_password1": payload.new_password,
            "new_password2": payload.new_password_again,
        },
        user=user,
    )
    data = valid(form, NEW_PASSWORD)
    password_check(phone=None, user=user, password=data["old_password"], step="password_change")
    user = password_change(actor=user, new_password=data["new_password1"])
    device_token_keep(token=request.auth, user=user)
    return {"detail": _("Your password is changed. Your other devices are signed out.")}


@router.get("/security/events", response={200: EventPage, **ERRORS})
def security_events(request, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)):
    """The account's security activity, newest first, as on the security page."""
    events = selectors.security_events(request.auth.user)
    return present.cursor_page(events, cursor=cursor, limit=limit, present=present.event)


@router.post("/security/freeze", response={200: Done, **ERRORS})
def freeze(request):
    """ "This wasn't me": sensitive operations stop and every other device is signed out."""
    user = account_freeze(actor=request.auth.user, user=request.auth.user, reason="reported by the borrower")
    device_token_keep(token=request.auth, user=user)
    return {"detail": _("Your account is frozen and your other devices are signed out.")}


@router.get("/devices", response={200: DeviceList, **ERRORS})
def devices(request):
    """The devices the app is signed in on, with their last use."""
    current = request.auth
    return {"items": [present.device(token, current) for token in live_tokens(request.auth.user)]}


@router.post("/devices/{id:token_id}/revoke", response={200: Done, **ERRORS})
def device_revoke(request, token_id: ObjectId):
    """Sign the app out on one device ("sign out that phone")."""
    try:
        device_token_revoke(actor=request.auth.user, token_id=token_id)
    except DeviceToken.DoesNotExist:
        raise Http404 from None
    return {"detail": _("That device is signed out.")}


@router.post("/devices/revoke-all", response={200: Done, **ERRORS})
def devices_revoke_all(request):
    """Sign the app out on every device, this one included (web sessions stay)."""
    device_tokens_revoke_all(actor=request.auth.user)
    return {"detail": _("The app is signed out on every device.")}


@router.get("/notifications", response={200: NotificationPage, **ERRORS})
def notifications(request, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)):
    items = selectors.notifications_of(request.auth.user)
    return present.cursor_page(items, cursor=cursor, limit=limit, present=present.notification)


@router.post("/notifications/read", response={200: Done, **ERRORS})
def notifications_read(request):
    notifications_mark_read(actor=request.auth.user)
    return {"detail": _("All notifications are marked read.")}
