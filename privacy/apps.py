from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy and account closure")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from privacy.signals import cancel_closure_on_sign_in

        user_logged_in.connect(cancel_closure_on_sign_in, dispatch_uid="privacy.cancel_closure_on_sign_in")
