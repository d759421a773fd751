"""How metric values and check figures are shown, the same way in the CLI and the TUI."""

from __future__ import annotations

from typing import Any


def format_value(value: float | None, fmt: str | None = "number", decimals: int | None = None,
                 unit: str | None = None) -> str:
    """A metric value as people read it.

    >>> format_value(0.7846, "percent", 1)
    '78.5%'
    >>> format_value(336776, "integer", unit="flights")
    '336,776 flights'
    >>> format_value(None)
    '—'
    """
    if value is None:
        return "—"
    if fmt == "percent":
        return f"{value * 100:,.{1 if decimals is None else decimals}f}%"
    if fmt == "integer":
        text = f"{round(value):,}"
    elif fmt == "currency":
        text = f"{value:,.{2 if decimals is None else decimals}f}"
    elif decimals is not None:
        text = f"{value:,.{decimals}f}"
    else:
        text = f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return f"{text} {unit}" if unit else text


def target_text(target: dict[str, Any] | None, fmt: str | None = "number", decimals: int | None = None) -> str:
    """``>= 80.0%``, ``<= 3.00%``, ``between …`` or ``—``.

    >>> target_text({"min": 0.8, "max": None, "direction": "increase"}, "percent", 1)
    '>= 80.0% (higher is better)'
    """
    if not target:
        return "—"
    low, high = target.get("min"), target.get("max")
    parts = []
    if low is not None and high is not None:
        parts.append(f"between {format_value(low, fmt, decimals)} and {format_value(high, fmt, decimals)}")
    elif low is not None:
        parts.append(f">= {format_value(low, fmt, decimals)}")
    elif high is not None:
        parts.append(f"<= {format_value(high, fmt, decimals)}")
    direction = target.get("direction")
    if direction:
        parts.append("(higher is better)" if direction == "increase" else "(lower is better)")
    return " ".join(parts) or "—"


def percent(value: float | None) -> str:
    """A check's unexpected percentage (already in percent units), compactly.

    >>> percent(2.2573)
    '2.26%'
    """
    return "—" if value is None else f"{value:.2f}%"


def metric_definition(details: dict[str, Any]) -> list[tuple[str, str]]:
    """The defining fields of a metric as ``(label, text)`` pairs, in reading order."""
    out: list[tuple[str, str]] = [("type", str(details.get("type")))]
    if details.get("dataset"):
        out.append(("dataset", str(details["dataset"])))
    measure = details.get("measure")
    if measure:
        agg = measure.get("agg")
        expr = measure.get("expr") or "*"
        if agg == "percentile":
            out.append(("measure", f"percentile({expr}, {measure.get('percentile')})"))
        else:
            out.append(("measure", f"{agg}({expr})"))
    if details.get("filter"):
        out.append(("filter", str(details["filter"])))
    if details.get("numerator"):
        out.append(("numerator", str(details["numerator"])))
        out.append(("denominator", str(details.get("denominator"))))
    if details.get("expr"):
        out.append(("expression", str(details["expr"])))
    for item in details.get("inputs") or []:
        extra = ", ".join(f"{k} {item[k]}" for k in ("alias", "offset", "filter") if item.get(k))
        out.append(("input", item["name"] + (f" ({extra})" if extra else "")))
    if details.get("window"):
        out.append(("window", str(details["window"])))
    if details.get("grain_to_date"):
        out.append(("grain to date", str(details["grain_to_date"])))
    out.append(("time grain", str(details.get("time_grain"))))
    if details.get("dimensions"):
        out.append(("dimensions", ", ".join(details["dimensions"])))
    return out
