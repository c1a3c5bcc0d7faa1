from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.centre, name="centre"),
    path("consents/<id:consent_id>/", views.consent_text, name="consent"),
    path("consents/<id:consent_id>/withdraw/", views.consent_withdraw_view, name="consent_withdraw"),
    path("marketing/", views.marketing_give, name="marketing_give"),
    path("copy/", views.copy_request, name="copy_request"),
    path("copy/code/", views.copy_code, name="copy_code"),
    path("copy/<id:copy_id>/", views.copy_status, name="copy"),
    path("copy/<id:copy_id>/download/", views.copy_download, name="copy_download"),
    path("close/", views.close, name="close"),
    path("close/code/", views.close_code, name="close_code"),
]
