from django.urls import path

from api import views

app_name = "devices"

urlpatterns = [
    path("<id:token_id>/revoke/", views.device_revoke, name="revoke"),
    path("revoke-all/", views.devices_revoke_all, name="revoke_all"),
    path("sign-out-everywhere/", views.everywhere, name="everywhere"),
]
