"""Cron expressions: parsing, day rules, and the next run in a time zone (DST included)."""

import datetime as dt
import zoneinfo

import pytest

from audiograb.pipeline.cron import CronExpression

UTC = dt.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def iso(moment: float | None, zone: dt.tzinfo = UTC) -> str:
    assert moment is not None
    return dt.datetime.fromtimestamp(moment, zone).isoformat()


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/15 * * * *", "2030-01-01T10:07:00+00:00", "2030-01-01T10:15:00+00:00"),
        ("0 9-17/4 * * *", "2030-01-01T10:00:00+00:00", "2030-01-01T13:00:00+00:00"),
        ("30 6 * * mon-fri", "2030-01-04T07:00:00+00:00", "2030-01-07T06:30:00+00:00"),
        ("0 0 29 feb *", "2030-03-01T00:00:00+00:00", "2032-02-29T00:00:00+00:00"),
        ("@hourly", "2030-01-01T10:00:00+00:00", "2030-01-01T11:00:00+00:00"),
        ("0 12 1 * 0", "2030-01-02T00:00:00+00:00", "2030-01-06T12:00:00+00:00"),
        ("0 0 * * 7", "2030-01-01T00:00:00+00:00", "2030-01-06T00:00:00+00:00"),
    ],
)
def test_next_run_in_utc(expression: str, after: str, expected: str) -> None:
    assert iso(CronExpression.parse(expression).next_after(at(after), UTC)) == expected


def test_runs_are_read_in_the_schedule_zone() -> None:
    daily = CronExpression.parse("0 8 * * *")
    moment = daily.next_after(at("2030-01-01T00:30:00+00:00"), SHANGHAI)
    assert iso(moment) == "2030-01-02T00:00:00+00:00"  # 08:00 in Shanghai is 00:00 UTC


def test_a_time_skipped_by_dst_does_not_run_that_day() -> None:
    nightly = CronExpression.parse("30 2 * * *")  # Berlin skips 02:00-03:00 on 2030-03-31
    moment = nightly.next_after(at("2030-03-30T12:00:00+00:00"), BERLIN)
    assert iso(moment, BERLIN) == "2030-04-01T02:30:00+02:00"


def test_a_time_that_happens_twice_runs_once() -> None:
    nightly = CronExpression.parse("30 2 * * *")  # 02:30 happens twice on 2030-10-27
    first = nightly.next_after(at("2030-10-26T12:00:00+00:00"), BERLIN)
    assert iso(first, BERLIN) == "2030-10-27T02:30:00+02:00"
    assert first is not None
    assert iso(nightly.next_after(first, BERLIN), BERLIN) == "2030-10-28T02:30:00+01:00"


def test_never_matching_expression_has_no_next_run() -> None:
    assert (
        CronExpression.parse("0 0 31 feb *").next_after(at("2030-01-01T00:00:00+00:00"), UTC)
        is None
    )


@pytest.mark.parametrize(
    ("expression", "complaint"),
    [
        ("* * * *", "5 fields"),
        ("60 * * * *", "minute"),
        ("* 24 * * *", "hour"),
        ("* * 0 * *", "day of month"),
        ("* * * 13 *", "month"),
        ("* * * * 8", "day of week"),
        ("*/0 * * * *", "step"),
        ("5-1 * * * *", "reversed"),
        ("x * * * *", "not a number"),
    ],
)
def test_bad_expressions_say_what_is_wrong(expression: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        CronExpression.parse(expression)
