from django import template

from accounts.devices import device_label

register = template.Library()


@register.filter
def device(user_agent: str) -> str:
    """``{{ event.user_agent|device }}``: "Chrome Mobile on Android 14"."""
    return device_label(user_agent)
