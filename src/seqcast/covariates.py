"""Known-future inputs: values known in advance for the lookback and the horizon.

Three kinds, in this column order: calendar encodings generated from the timestamps (sin and
cos of hour of day, day of week, day of year or month, as the data's step allows), a 0/1
holiday flag from the ``holidays`` package's shipped calendars (no network), and the user's
own columns (``params:data.future_features``), read from ``series`` for the past and from the
forecast's future file for the horizon. :class:`KnownFuture` says which a model takes; the
model carries it in its ``known_future`` layer, so inference rebuilds the same columns.
:func:`model_inputs` is the one place that builds a model's input list.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from seqcast.cleaning import as_list
from seqcast.errors import SeqcastError

# Component: (period, position within the period from a DatetimeIndex).
CALENDAR = {
    "hour": (24.0, lambda t: t.hour + t.minute / 60.0),
    "day_of_week": (7.0, lambda t: t.dayofweek),
    "day_of_year": (365.25, lambda t: t.dayofyear - 1),
    "month": (12.0, lambda t: t.month - 1),
}
HOLIDAY = "holiday"


class CovariateConfigError(SeqcastError, ValueError):
    """A known-future setting cannot be used, or its values are missing."""


def calendar_components(stamps: pd.DatetimeIndex) -> list[str]:
    """The components the step of ``stamps`` can resolve: hour of day below a day, day of week
    below a week, day of year below four weeks, month below a year (the median step)."""
    if len(stamps) < 2:
        raise CovariateConfigError("calendar features need at least two timestamps")
    step = pd.Series(stamps).diff().median()
    day = pd.Timedelta(days=1)
    chosen = []
    if step < day:
        chosen.append("hour")
    if step < 7 * day:
        chosen.append("day_of_week")
    if step < 28 * day:
        chosen.append("day_of_year")
    elif step < 365 * day:
        chosen.append("month")
    return chosen


def holiday_calendar(code: str, years=()):
    """The ``holidays`` calendar of a country (``US``) or subdivision (``US-CA``) code."""
    import holidays

    country, _, subdiv = str(code).partition("-")
    try:
        return holidays.country_holidays(country, subdiv=subdiv or None, years=years)
    except NotImplementedError as err:
        raise CovariateConfigError(
            f"params:data.holidays={code!r} is not a country or subdivision the holidays "
            f"package knows ({err}); give an ISO code such as US, US-CA or DE, or null") from err


def holiday_flags(code: str, stamps) -> np.ndarray:
    """1.0 where the date of each timestamp is a holiday of ``code``, else 0.0."""
    days = pd.DatetimeIndex(stamps).normalize()
    calendar = holiday_calendar(code, range(days.min().year, days.max().year + 1))
    known = pd.DatetimeIndex(list(calendar.keys()))
    return days.isin(known).astype(np.float32)


@dataclass(frozen=True)
class KnownFuture:
    """Which known-future columns a model takes: ``calendar`` components, the ``holidays``
    code (None: no flag) and the user's ``columns`` (features of ``series``)."""

    calendar: tuple[str, ...] = ()
    holidays: str | None = None
    columns: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, known: dict | None) -> KnownFuture:
        known = known or {}
        return cls(tuple(known.get("calendar") or ()), known.get("holidays"),
                   tuple(known.get("columns") or ()))

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @property
    def generated(self) -> list[str]:
        """The generated columns' names: calendar encodings, then the holiday flag."""
        names = [f"{c}_{f}" for c in self.calendar for f in ("sin", "cos")]
        return names + ([HOLIDAY] if self.holidays else [])

    @property
    def names(self) -> list[str]:
        return [*self.generated, *self.columns]

    def __bool__(self) -> bool:
        return bool(self.names)

    def encode(self, stamps) -> np.ndarray:
        """The generated columns at ``stamps``, ``(len(stamps), len(generated))`` float32,
        already in [-1, 1] or {0, 1}."""
        stamps = pd.DatetimeIndex(stamps)
        out = []
        for component in self.calendar:
            period, position = CALENDAR[component]
            angle = 2 * np.pi * np.asarray(position(stamps), np.float64) / period
            out += [np.sin(angle), np.cos(angle)]
        if self.holidays:
            out.append(holiday_flags(self.holidays, stamps))
        return np.stack(out, axis=1).astype(np.float32) if out else np.zeros(
            (len(stamps), 0), np.float32)

    def values(self, stamps, columns: np.ndarray) -> np.ndarray:
        """Every known-future column at ``stamps``, the user's taken from ``columns``
        ``(len(stamps), len(self.columns))``: ``(len(stamps), len(names))`` float32."""
        return np.concatenate([self.encode(stamps), np.asarray(columns, np.float32)], axis=1)


def from_params(data: dict, stamps: pd.DatetimeIndex, features: list[str]) -> KnownFuture:
    """The known-future columns ``params:data`` asks for (``calendar``, ``holidays``,
    ``future_features``), calendar components chosen by the step of ``stamps`` (one series'),
    user columns checked against ``features``."""
    calendar = data.get("calendar") or False
    if not isinstance(calendar, bool):
        raise CovariateConfigError(
            f"params:data.calendar must be true or false, got {calendar!r}")
    code = data.get("holidays")
    if code is not None:
        holiday_calendar(code)  # refuse an unknown code before any work
    columns = as_list(data.get("future_features"))
    missing = [c for c in columns if c not in features]
    if missing:
        raise CovariateConfigError(
            f"params:data.future_features {missing} are not columns of series {features}; "
            "add them to the input file (and to params:data.features if it lists columns) and "
            "re-run ingestion")
    return KnownFuture(tuple(calendar_components(stamps)) if calendar else (),
                       str(code) if code else None, tuple(columns))


def takes_future(model) -> bool:
    """Whether ``model`` has the third input, ``future``."""
    return len(model.inputs) > 2


def model_known_future(model) -> KnownFuture:
    """What known-future columns ``model`` (a forecaster or an ensemble) takes; empty for a
    model with the two inputs ``[history, series]``."""
    names = [layer.name for layer in model.layers]
    if "known_future" in names:
        return KnownFuture.from_dict(model.get_layer("known_future").known)
    for layer in model.layers:  # an ensemble's members
        if hasattr(layer, "layers"):
            known = model_known_future(layer)
            if known:
                return known
    return KnownFuture()


def model_inputs(model, history: np.ndarray, codes: np.ndarray,
                 future: np.ndarray | None = None) -> list:
    """``model``'s input list: ``[history, series]``, plus ``future`` ``(batch, lookback +
    horizon, n_future)`` for a model that takes known-future columns (refused when missing)."""
    inputs = [np.asarray(history, np.float32), np.asarray(codes, np.int32)]
    if not takes_future(model):
        return inputs
    if future is None:
        raise CovariateConfigError(
            f"model {model.name!r} takes known-future columns "
            f"{model_known_future(model).names} but none were given")
    return [*inputs, np.asarray(future, np.float32)]


FUTURE_FILE = "the future_features dataset (conf/base/catalog.yml)"


def user_future(table: pd.DataFrame, columns: list[str], stamps: np.ndarray,
                ids: pd.DataFrame, data: dict) -> np.ndarray:
    """The user's known-future ``columns`` at ``stamps`` ``(n_series, horizon)`` of the series
    whose id columns are ``ids`` (one row each), from ``table`` (the time column, the id
    columns and ``columns``): ``(n_series * horizon, len(columns))``. Refused, naming the
    missing columns, or the missing dates and series."""
    n, horizon = stamps.shape
    if not columns:
        return np.zeros((n * horizon, 0), np.float32)
    time_column = data.get("time_column") or "date"
    keys = pd.DataFrame({time_column: pd.DatetimeIndex(stamps.reshape(-1))})
    for c in ids.columns:
        keys[c] = np.repeat(ids[c].astype(str).to_numpy(), horizon)
    table = pd.DataFrame() if table is None else table
    absent = [c for c in [time_column, *ids.columns, *columns] if c not in table.columns]
    if absent:
        raise CovariateConfigError(
            f"{FUTURE_FILE} lacks column(s) {absent}; the model reads known-future columns "
            f"{list(columns)} for the next {horizon} steps: give a file with "
            f"{[time_column, *ids.columns, *columns]}, one row per step (and series)")
    table = table[[time_column, *ids.columns, *columns]].copy()
    when = pd.to_datetime(table[time_column])
    tz = keys[time_column].dt.tz
    if tz is not None and when.dt.tz is None:
        when = when.dt.tz_localize(tz)
    table[time_column] = when
    for c in ids.columns:
        table[c] = table[c].astype(str)
    table = table.drop_duplicates([time_column, *ids.columns], keep="last")
    merged = keys.merge(table, on=[time_column, *ids.columns], how="left")
    holes = merged[list(columns)].isna().any(axis=1).to_numpy()
    if holes.any():
        missing = keys[holes]
        shown = "; ".join(" ".join(str(v) for v in row)
                          for row in missing.head(5).itertuples(index=False))
        raise CovariateConfigError(
            f"{FUTURE_FILE} has no value of {list(columns)} for {int(holes.sum())} of the "
            f"{n * horizon} future steps the forecast needs, e.g. ({time_column}"
            f"{', ' + ', '.join(ids.columns) if len(ids.columns) else ''}): {shown}; add "
            "those rows")
    return merged[list(columns)].to_numpy(np.float32)


def forecast_future(panel, codes: np.ndarray, known: KnownFuture, lookback: int,
                    ahead: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The ``future`` input for forecasting series ``codes`` of ``panel`` from their last
    point: their last ``lookback`` rows, then the steps after them, ``ahead = (stamps
    (len(codes), horizon), the user's columns there (:func:`user_future`))``;
    ``(len(codes), lookback + horizon, n_future)``."""
    stamps, user = ahead
    n, horizon = stamps.shape
    rows = (panel.offsets[codes + 1][:, None] - lookback + np.arange(lookback)).reshape(-1)
    past = known.values(panel.stamps[rows],
                        panel.column(list(known.columns), np.float32)[rows])
    if known.generated and not isinstance(np.asarray(stamps).flat[0],
                                          pd.Timestamp | np.datetime64):
        raise CovariateConfigError(
            f"the model reads {known.generated}, which need the future timestamps; with "
            "params:data.frequency rows set params:data.step_frequency (e.g. B)")
    after = known.values(stamps.reshape(-1), user)
    return np.concatenate([past.reshape(n, lookback, -1), after.reshape(n, horizon, -1)],
                          axis=1)
