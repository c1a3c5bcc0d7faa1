"""Chinese number formats as Chinese finance apps show them: ¥80,000.00 (Django's own zh_Hans
formats group no digits). Everything not set here falls back to Django's zh_Hans formats."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
