from django.contrib import admin
from django.urls import include, path

from accounts.views import account, dev, notifications
from api.api import api
from cards.views_bank import bank_notices
from lending import views, views_repay

urlpatterns = [
    path("api/v1/", api.urls),  # first: the app's calls are resolved without walking the pages' patterns
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", account.language, name="set_language"),
    path("accounts/security/devices/", include("api.urls")),
    path("accounts/", include("accounts.urls")),
    path("cards/", include("cards.urls")),
    path("support/", include("support.urls")),
    path("privacy/", include("privacy.urls")),
    path("bank/notices/", bank_notices, name="bank_notices"),
    path("loans/", views.loan_list, name="loans"),
    path("loans/<id:loan_id>/", views.loan_detail, name="loan_detail"),
    path("loans/<id:loan_id>/repay/", views_repay.repay, name="loan_repay"),
    path("loans/<id:loan_id>/payoff/", views_repay.payoff, name="loan_payoff"),
    path("loans/<id:loan_id>/payments/<slug:payment_ref>/", views_repay.receipt, name="loan_payment"),
    path("notifications/", notifications.inbox, name="notifications"),
    path("notifications/read/", notifications.mark_read, name="notifications_read"),
    path("dev/sms/", dev.sms_inbox, name="dev_sms"),
    path("admin/", admin.site.urls),
]
