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
]
