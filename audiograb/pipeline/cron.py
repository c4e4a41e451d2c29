"""Five-field cron expressions (minute hour day-of-month month day-of-week) and their next run.

A small matcher of our own rather than a dependency: recurring downloads need only "the next
matching minute after t in this time zone", which is a short loop over days, and the usual
library for it (croniter) has been declared unmaintained by its author.

Supported: `*`, numbers, ranges `a-b`, steps `*/n` `a-b/n` `a/n`, lists `a,b`, month and
weekday names (`jan`, `mon`), Sunday as 0 or 7, and the macros `@yearly` (`@annually`),
`@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly`. As in Vixie cron, when both
day-of-month and day-of-week are restricted, a day matching either one matches.

Times are read in the schedule's time zone. A local time skipped by a daylight-saving change
does not happen that day; a local time that happens twice runs at its first occurrence.
"""

import datetime as dt
from dataclasses import dataclass

__all__ = ["CronExpression"]

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_Field = tuple[str, int, int, tuple[str, ...]]
#: (name, lowest, highest, names numbered from `lowest`)
_FIELDS: tuple[_Field, ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
#: How far ahead a next run is looked for (covers leap days: 29 February every 4 years).
_HORIZON_DAYS = 366 * 8


def _value(text: str, low: int, names: tuple[str, ...], field: str) -> int:
    lowered = text.lower()
    if lowered in names:
        return names.index(lowered) + low
    if not text.isdigit():
        raise ValueError(f"{field}: {text!r} is not a number")
    return int(text)


def _parse_field(text: str, field: _Field) -> set[int]:
    name, low, high, names = field
    values: set[int] = set()
    for part in text.split(","):
        spec, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{name}: step {step_text!r} must be a positive number")
            step = int(step_text)
        if spec == "*":
            first, last = low, high
        elif "-" in spec:
            start_text, _, end_text = spec.partition("-")
            first = _value(start_text, low, names, name)
            last = _value(end_text, low, names, name)
        else:
            first = _value(spec, low, names, name)
            last = high if step_text else first
        if not low <= first <= last <= high:
            raise ValueError(f"{name}: {part!r} is outside {low}-{high} or reversed")
        values.update(range(first, last + 1, step))
    return values


@dataclass(frozen=True)
class CronExpression:
    """A parsed cron expression; `CronExpression.parse("*/15 9-17 * * mon-fri")`."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday (7 is folded into 0)."""
    any_day: bool
    """Day of month is `*`."""
    any_weekday: bool
    """Day of week is `*`."""

    @classmethod
    def parse(cls, text: str) -> "CronExpression":
        """Parse `text`; `ValueError` naming the field when it is not a valid expression."""
        expanded = _MACROS.get(text.strip().lower(), text)
        parts = expanded.split()
        if len(parts) != len(_FIELDS):
            raise ValueError(f"a cron expression has 5 fields, not {len(parts)}: {text!r}")
        minute, hour, day, month, weekday = (
            _parse_field(part, field) for part, field in zip(parts, _FIELDS, strict=True)
        )
        return cls(
            text=text.strip(),
            minutes=frozenset(minute),
            hours=frozenset(hour),
            days=frozenset(day),
            months=frozenset(month),
            weekdays=frozenset(day % 7 for day in weekday),
            any_day=parts[2].startswith("*"),
            any_weekday=parts[4].startswith("*"),
        )

    def matches_day(self, day: dt.date) -> bool:
        """Whether the expression runs on `day` at all."""
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = (day.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return by_date and by_weekday
        return by_date or by_weekday

    def next_after(self, after: float, zone: dt.tzinfo) -> float | None:
        """The first run strictly after Unix time `after`, read in `zone`; None if there is none."""
        start = dt.datetime.fromtimestamp(after, zone).replace(tzinfo=None)
        hours, minutes = sorted(self.hours), sorted(self.minutes)
        for offset in range(_HORIZON_DAYS):
            day = start.date() + dt.timedelta(days=offset)
            if not self.matches_day(day):
                continue
            for hour in hours:
                for minute in minutes:
                    local = dt.datetime.combine(day, dt.time(hour, minute))
                    if local <= start.replace(second=0, microsecond=0) and offset == 0:
                        continue
                    moment = _existing(local, zone)
                    if moment is not None and moment > after:
                        return moment
        return None


def _existing(local: dt.datetime, zone: dt.tzinfo) -> float | None:
    """Unix time of the wall-clock time `local` in `zone`, None if the zone skips it."""
    aware = local.replace(tzinfo=zone)
    back = aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    return aware.timestamp() if back == local else None
