import datetime as dt

from production.selectors.dashboard import FULL, _prebuild_alerts

MONDAY = dt.date(2026, 11, 23)  # 2026-W48
WEEKS = [MONDAY + dt.timedelta(weeks=k) for k in range(6)]


def test_consecutive_full_weeks_that_build_ahead_make_one_alert_each_stretch():
    overview = {
        "prebuild_hours": [10.0, 20.5, 0.0, 4.0, 3.0, 0.01],
        "utilisation": [FULL, FULL, FULL, FULL, FULL - 0.2, FULL],
    }

    found = _prebuild_alerts(WEEKS, overview)

    assert [a["text"] for a in found] == [
        "2026-W48 – 2026-W49 (2 weeks): line full; 30 hours build ahead for later weeks "
        "that lack capacity.",
        "2026-W51: line full; 4 hours build ahead for later weeks that lack capacity.",
    ]
    assert {a["level"] for a in found} == {"warn"}


def test_no_alert_without_pre_build():
    overview = {"prebuild_hours": [0.0] * 6, "utilisation": [FULL] * 6}

    assert _prebuild_alerts(WEEKS, overview) == []
