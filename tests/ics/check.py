#!/usr/bin/env python3
"""Parses an appointment's calendar file (RFC 5545) with the `icalendar` library from
PyPI and prints what the HTTP suite checks, as one line of JSON:

    python3 tests/ics/check.py termin.ics
    {"method": "PUBLISH", "events": [{"uid": ..., "dtstart": "2026-12-02T07:00:00+00:00",
      "dtstart_utc": true, "dtend": ..., "dtend_utc": true, "sequence": 0,
      "status": "CONFIRMED", "summary": ..., "location": ..., "description": ...}]}

`*_utc` says whether the value is a UTC date-time (a trailing Z), as the functions
promise. Exits 1 (with the reason on stderr) when the file does not parse as a calendar
or holds no VEVENT; 2 when `icalendar` is missing (install it as scripts/test.sh does:
python3 -m pip install --target .tools/pydeps icalendar, and run with
PYTHONPATH=.tools/pydeps).
"""

import json
import sys

try:
    import icalendar
except ImportError:
    print(
        "icalendar is missing: python3 -m pip install --target .tools/pydeps icalendar",
        file=sys.stderr,
    )
    sys.exit(2)

from datetime import datetime, timedelta


def when(component, name):
    """(ISO text, is UTC) of a DATE-TIME property, or (None, False)."""
    prop = component.get(name)
    if prop is None:
        return None, False
    value = prop.dt
    if not isinstance(value, datetime):
        return value.isoformat(), False
    utc = value.tzinfo is not None and value.utcoffset() == timedelta(0)
    # The raw text must end in Z too: a TZID of some zone at +00:00 is not UTC.
    raw = prop.to_ical().decode()
    return value.isoformat(), utc and raw.endswith("Z") and "TZID" not in prop.params


def text(component, name):
    value = component.get(name)
    return None if value is None else str(value)


def main():
    if len(sys.argv) != 2:
        print("usage: check.py FILE.ics", file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as e:  # the library raises ValueError and others
        print(f"not a calendar: {e}", file=sys.stderr)
        return 1
    if calendar.name != "VCALENDAR":
        print(f"the outer component is {calendar.name}, not VCALENDAR", file=sys.stderr)
        return 1
    events = []
    for event in calendar.walk("VEVENT"):
        start, start_utc = when(event, "DTSTART")
        end, end_utc = when(event, "DTEND")
        stamp, stamp_utc = when(event, "DTSTAMP")
        sequence = event.get("SEQUENCE")
        events.append(
            {
                "uid": text(event, "UID"),
                "dtstart": start,
                "dtstart_utc": start_utc,
                "dtend": end,
                "dtend_utc": end_utc,
                "dtstamp_utc": stamp_utc,
                "sequence": None if sequence is None else int(sequence),
                "status": text(event, "STATUS"),
                "summary": text(event, "SUMMARY"),
                "location": text(event, "LOCATION"),
                "description": text(event, "DESCRIPTION"),
            }
        )
    if not events:
        print("the calendar holds no VEVENT", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "version": text(calendar, "VERSION"),
                "prodid": text(calendar, "PRODID"),
                "method": text(calendar, "METHOD"),
                "events": events,
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
