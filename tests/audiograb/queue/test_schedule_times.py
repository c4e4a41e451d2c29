"""Schedule times: ISO 8601 with a zone, converted to UTC; no zone is refused."""

import datetime as dt

import pytest

from audiograb.domain import AudiograbError, ErrorCode
from audiograb.pipeline.schedules import parse_time, zone_of


def test_offsets_convert_to_the_same_instant() -> None:
    utc = parse_time("2030-01-01T10:00:00Z")
    assert parse_time("2030-01-01T18:00:00+08:00") == utc
    assert parse_time("2030-01-01T05:00:00-05:00") == utc
    assert parse_time("20300101T100000+0000") == utc
    assert utc == dt.datetime(2030, 1, 1, 10, tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(
    "text",
    [
        "2030-01-01T10:00:00",
        "tomorrow",
        "2030-13-01T00:00Z",
        "9999-12-31T23:59:59-23:59",  # year 10000 in UTC
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC
    ],
)
def test_times_without_a_zone_or_malformed_are_refused(text: str) -> None:
    with pytest.raises(AudiograbError) as refused:
        parse_time(text)
    assert refused.value.code is ErrorCode.INVALID_REQUEST


def test_zones_are_iana_names() -> None:
    assert zone_of("utc") is dt.UTC
    assert str(zone_of("Asia/Shanghai")) == "Asia/Shanghai"
    with pytest.raises(AudiograbError, match="unknown time zone"):
        zone_of("Mars/Olympus")
