from django.urls import path

from accounts.views import account, auth, phone, phone_lost

app_name = "accounts"

urlpatterns = [
    path("", account.home, name="home"),
    path("register/", auth.register, name="register"),
    path("register/complete/", auth.register_complete, name="register_complete"),
    path("register/resend/", auth.register_resend, name="register_resend"),
    path("login/", auth.login, name="login"),
    path("login/verify/", auth.login_verify, name="login_verify"),
    path("login/resend/", auth.login_resend, name="login_resend"),
    path("logout/", auth.logout, name="logout"),
    path("password/change/", account.password_change_view, name="password_change"),
    path("password/reset/", auth.password_reset, name="password_reset"),
    path("password/reset/complete/", auth.password_reset_done, name="password_reset_complete"),
    path("password/reset/resend/", auth.password_reset_resend, name="password_reset_resend"),
    path("confirm-password/", account.reauth, name="reauth"),
    path("identity/", account.identity, name="identity"),
    path("phone/change/", phone.phone_change, name="phone_change"),
    path("phone/change/<id:change_id>/old/", phone.phone_change_old, name="phone_change_old"),
    path("phone/change/<id:change_id>/new/", phone.phone_change_new, name="phone_change_new"),
    path("phone/change/<id:change_id>/confirm/", phone.phone_change_confirm, name="phone_change_confirm"),
    path("phone/change/<id:change_id>/resend/", phone.phone_change_resend, name="phone_change_resend"),
    path("phone/change/<id:change_id>/cancel/", phone.phone_change_cancel_view, name="phone_change_cancel"),
    path("phone/lost/", phone_lost.phone_lost, name="phone_lost"),
    path("phone/lost/code/", phone_lost.phone_lost_code, name="phone_lost_code"),
    path("phone/lost/resend/", phone_lost.phone_lost_resend, name="phone_lost_resend"),
    path("phone/lost/withdraw/", phone_lost.phone_lost_withdraw, name="phone_lost_withdraw"),
    path("phone/lost/face/", phone_lost.phone_lost_face, name="phone_lost_face"),
    path("phone/lost/face/start/", phone_lost.phone_lost_face_begin, name="phone_lost_face_start"),
    path("phone/lost/face/go/", phone_lost.phone_lost_face_go, name="phone_lost_face_go"),
    path("security/", account.security, name="security"),
    path("security/freeze/", account.freeze, name="freeze"),
]
