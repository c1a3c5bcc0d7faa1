# 2026-11-30 13:00 UTC+0800 (the time in TIME_ZONE, its offset shown: lending/formats/__init__.py)
DATETIME_FORMAT = r"Y-m-d H:i \U\T\CO"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
