from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("<id:case_id>/", views.case_detail, name="detail"),
    path("signed-out/", views.signed_out, name="signed_out"),
    path("signed-out/code/", views.signed_out_code, name="signed_out_code"),
]
