"""Units of time: every conversion between seconds, hours, days and years in one place."""

SECONDS_PER_MINUTE = 60.0
SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86_400.0
HOURS_PER_DAY = 24
DAYS_PER_YEAR = 365
SECONDS_PER_YEAR = DAYS_PER_YEAR * SECONDS_PER_DAY
