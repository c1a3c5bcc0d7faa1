from django.dispatch import Signal

# Sent in the transaction that opens a RiskAlert (kwargs: alert). Apps act on it, e.g.
# accounts freezes the borrower on a high-severity alert when RISK_FREEZE_ON_HIGH_ALERT is on.
risk_alert_opened = Signal()
