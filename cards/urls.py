from django.urls import path

from cards import views

app_name = "cards"

urlpatterns = [
    path("", views.card_list, name="list"),
    path("bind/", views.bind, name="bind"),
    path("bind/<id:request_id>/confirm/", views.bind_confirm, name="bind_confirm"),
    path("unbind-all/", views.unbind_all, name="unbind_all"),
    path("<id:card_id>/code/", views.code, name="code"),
    path("<id:card_id>/repayment/", views.repayment, name="repayment"),
    path("<id:card_id>/unbind/", views.unbind, name="unbind"),
    path("<id:card_id>/swap/", views.swap, name="swap"),
    path("<id:card_id>/face-check/", views.step_up, name="step_up"),
    path("<id:card_id>/face-check/go/", views.step_up_go, name="step_up_go"),
    path("face-check/back/", views.step_up_back, name="step_up_back"),
]
