from django.apps import AppConfig


class SandboxBankConfig(AppConfig):
    """The sandbox bank's own tables: its accounts, bindings, mandates and debits."""

    name = "cards.sandbox_bank"
    label = "sandbox_bank"
    verbose_name = "Sandbox bank"
