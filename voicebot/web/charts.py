"""Plotly figure specs (data + layout as plain dicts) built from the analytics summary; plotly.js draws them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from voicebot.web.labels import ANSWER_BUCKETS, label

_LAYOUT = {
    "margin": {"l": 48, "r": 12, "t": 8, "b": 40},
    "height": 280,
    "legend": {"orientation": "h", "y": -0.2},
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
}


def _figure(data: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
    return {"data": data, "layout": {**_LAYOUT, **layout}}


def calls_link(period: dict[str, str], **filters: Any) -> str:
    """The call list behind a bar: the dashboard's period plus the bar's own filters."""
    return "/calls?" + urlencode({**period, **{k: v for k, v in filters.items() if v not in (None, "")}})


def hours_by_direction(points: list[dict[str, Any]], period: dict[str, str] | None = None) -> dict[str, Any]:
    """Calls per hour of day (0–23, company time) stacked by direction, from an hourly time series."""
    counts: dict[str, list[int]] = {}
    for point in points:
        hour = datetime.fromisoformat(point["t"]).hour
        for direction, n in point["counts"].items():
            counts.setdefault(direction, [0] * 24)[hour] += n
    data = [
        {
            "type": "bar",
            "name": label(direction, "direction"),
            "x": list(range(24)),
            "y": values,
            "customdata": [calls_link(period or {}, direction=direction, hour=h) for h in range(24)],
        }
        for direction, values in sorted(counts.items())
    ]
    return _figure(data, barmode="stack", xaxis={"title": "час", "dtick": 2}, yaxis={"title": "звонков"})


def outcomes_by_scenario(
    by_scenario: dict[str, dict[str, int]], period: dict[str, str] | None = None
) -> dict[str, Any]:
    scenarios = sorted(by_scenario)
    outcomes = sorted({o for values in by_scenario.values() for o in values})
    names = [label(s, "scenario") for s in scenarios]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": label(outcome, "outcome"),
            "y": names,
            "x": [by_scenario[s].get(outcome, 0) for s in scenarios],
            "customdata": [calls_link(period or {}, scenario=s, outcome=outcome) for s in scenarios],
            "hovertemplate": "%{y}: %{x}<extra>" + label(outcome, "outcome") + "</extra>",
        }
        for outcome in outcomes
    ]
    height = max(240, 60 + 36 * len(scenarios))
    return _figure(data, barmode="stack", height=height, margin={**_LAYOUT["margin"], "l": 170})


def success_rates(success: dict[str, dict[str, Any]], period: dict[str, str] | None = None) -> dict[str, Any]:
    rows = [(scenario, values) for scenario, values in success.items() if values.get("calls")]
    rates = []
    for _, values in rows:
        rate = next((v for k, v in values.items() if k.endswith("_rate")), None)
        rates.append(round(100 * rate, 1) if rate is not None else 0)
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": [label(s, "scenario") for s, _ in rows],
            "x": rates,
            "textposition": "auto",
            "customdata": [calls_link(period or {}, scenario=s) for s, _ in rows],
            "text": [
                f"{r:.0f} % ({v['successes']} из {v['calls']})" for r, (_, v) in zip(rates, rows, strict=True)
            ],
            "hovertemplate": "%{y}: %{text}<extra></extra>",
        }
    ]
    height = max(200, 60 + 36 * len(rows))
    margin = {**_LAYOUT["margin"], "l": 170}
    return _figure(data, height=height, margin=margin, xaxis={"title": "успешно, %", "range": [0, 100]})


def nps_distribution(nps: dict[str, Any]) -> dict[str, Any]:
    scores = [str(s) for s in range(11)]
    colours = ["#d9534f"] * 7 + ["#f0ad4e"] * 2 + ["#5cb85c"] * 2
    data = [
        {
            "type": "bar",
            "x": scores,
            "y": [nps["distribution"].get(s, 0) for s in scores],
            "marker": {"color": colours},
        }
    ]
    return _figure(data, xaxis={"title": "оценка", "type": "category"}, yaxis={"title": "ответов"})


def answer_times(waits: dict[str, int]) -> dict[str, Any]:
    buckets = list(ANSWER_BUCKETS)
    data = [
        {
            "type": "bar",
            "x": [ANSWER_BUCKETS[b] for b in buckets],
            "y": [waits.get(b, 0) for b in buckets],
            "marker": {"color": ["#5cb85c"] * 4 + ["#f0ad4e", "#d9534f", "#777"]},
        }
    ]
    return _figure(data, xaxis={"title": "ожидание ответа", "type": "category"}, yaxis={"title": "звонков"})
