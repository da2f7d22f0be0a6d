"""A sorted panel as flat arrays: codes, int64 nanosecond stamps and a ``(rows, features)`` block.

Every step is vectorised over the whole panel (NumPy on the concatenated series); series are
told apart by their integer code and the offset of their first row, never by a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Flat:
    """Rows of a panel sorted by (series code, time); ``starts`` are each series' first row."""

    codes: np.ndarray   # (rows,) int32 series code (int64 beyond 2**31 series)
    stamps: np.ndarray  # (rows,) int64 ``unit``s since the epoch (UTC for zoned times)
    values: np.ndarray  # (rows, features) float64
    n_series: int
    unit: str = "ns"    # the file's own resolution: converting would copy every stamp

    def index(self, rows, zone, name=None) -> pd.DatetimeIndex:
        """The stamps of ``rows`` as a DatetimeIndex in ``zone``: a view of the flat's own
        stamps, a copy of those still read-only views of the raw table (never shared with it)."""
        stamps = self.stamps[rows]
        index = pd.DatetimeIndex(stamps.view(f"M8[{self.unit}]"), name=name,
                                 copy=not stamps.flags.writeable)
        return index.tz_localize("UTC").tz_convert(zone) if zone is not None else index

    def timestamp(self, row: int, zone) -> pd.Timestamp:
        return self.index(slice(row, row + 1), zone)[0]

    def step(self, step_ns: int) -> int:
        """``step_ns`` in the stamps' unit (stamps brought to ns if it is not a whole number)."""
        per_unit = int(pd.Timedelta(1, self.unit).value)
        if step_ns % per_unit:
            self.stamps, self.unit = self.stamps * per_unit, "ns"
            return step_ns
        return step_ns // per_unit

    @property
    def lengths(self) -> np.ndarray:
        # Binary searches in the sorted codes: ``np.bincount`` would copy them to int64 first.
        series = np.arange(self.n_series + 1, dtype=self.codes.dtype)
        return np.diff(np.searchsorted(self.codes, series))

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]])

    def keep(self, rows) -> None:
        """Keep ``rows`` (a mask or an order) in place: each old array is freed as it goes."""
        if rows.dtype == bool:
            if rows.all():
                return
            # A mask of the array's own shape is walked as it is; a 1-D mask on the 2-D values
            # (or np.compress) would first build an 8-byte index per kept row.
            self.codes = self.codes[rows]
            self.stamps = self.stamps[rows]
            width = self.values.shape[1]
            self.values = self.values[np.broadcast_to(rows[:, None], self.values.shape)]
            self.values = self.values.reshape(-1, width)
            return
        self.codes = self.codes[rows]
        self.stamps = self.stamps[rows]
        self.values = self.values[rows]


def reduce(flat: Flat, array: np.ndarray, ufunc, empty) -> np.ndarray:
    """``ufunc`` reduced over each series' rows of ``array``; ``empty`` for a series with none."""
    present = flat.lengths > 0
    out = np.full((flat.n_series, *array.shape[1:]), empty, dtype=np.result_type(array, empty))
    if present.any():
        out[present] = ufunc.reduceat(array, flat.starts[present], axis=0)
    return out


def runs(missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and lengths of the runs of True."""
    padded = np.zeros(len(missing) + 2, dtype=np.int8)  # int8 throughout: 1 byte per row
    padded[1:-1] = missing
    edges = np.diff(padded)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return starts, ends - starts


def sort_order(flat: Flat) -> np.ndarray | None:
    """The order sorting rows by (series, time), stable; ``None`` when already sorted.

    One int64 key sorts both, about twice as fast as ``np.lexsort`` on 10 M rows: the code
    times the time span plus the time, or, when that would overflow, the rank of the time.
    """
    low = int(flat.stamps.min()) if len(flat.stamps) else 0
    span = int(flat.stamps.max()) - low + 1 if len(flat.stamps) else 1
    key = flat.codes.astype(np.int64)
    if flat.n_series * span < 2**62:
        key *= span  # in place: 10 M rows make every temporary 80 MB
        key += flat.stamps
        key -= low
    else:
        rank, distinct = pd.factorize(flat.stamps, sort=True)
        key *= len(distinct)
        key += rank
        del rank
    if (key[1:] >= key[:-1]).all():
        return None
    return np.argsort(key, kind="stable")


def duplicated(flat: Flat) -> np.ndarray:
    """Rows repeating the previous row's series and timestamp (both copies flagged)."""
    same = (flat.codes[1:] == flat.codes[:-1]) & (flat.stamps[1:] == flat.stamps[:-1])
    out = np.zeros(len(flat.codes), dtype=bool)
    out[1:] |= same
    out[:-1] |= same
    return out


def merge_duplicates(flat: Flat, policy: str) -> Flat:
    """One row per (series, timestamp), merged by ``keep_last`` or ``mean`` (NaN skipped)."""
    frame = pd.DataFrame(flat.values)
    grouped = frame.groupby([flat.codes, flat.stamps], sort=True)
    merged = grouped.last() if policy == "keep_last" else grouped.mean()
    keys = merged.index
    return Flat(keys.get_level_values(0).to_numpy(flat.codes.dtype),
                keys.get_level_values(1).to_numpy(np.int64),
                merged.to_numpy(np.float64), flat.n_series, flat.unit)


def fixed_step(offset, zoned: bool) -> int | None:  # in ns
    """The offset's length in ns when every step lasts as long (a local day may not)."""
    if isinstance(offset, pd.offsets.Tick):
        return int(offset.nanos)
    if isinstance(offset, pd.offsets.Day) and not zoned:
        return int(offset.n) * 86_400_000_000_000
    return None


@dataclass
class Steps:
    """Each row's step within its series, whether it is on the grid, the shared grid if any.

    :func:`regular` takes ``step`` out of it, so that the 10 M-row array dies there.
    """

    step: np.ndarray | None
    on_grid: np.ndarray | None
    grid: np.ndarray | None = None


def positions(flat: Flat, offset, step: int | None, zone=None) -> Steps:
    """Each row's step within its series, and whether it lies on the series' grid.

    A fixed step (``D``, ``h``, ``30min``) counts from the series' first timestamp, as for a
    single series; a calendar offset (``B``, ``MS``, ``W``) uses one grid shared by the panel.
    """
    if offset is None:  # frequency: rows; each row is the next step
        return Steps(np.arange(len(flat.codes)) - np.repeat(flat.starts, flat.lengths),
                     np.ones(len(flat.codes), dtype=bool))
    if step is not None:  # in the stamps' unit
        delta = np.repeat(flat.stamps[flat.starts], flat.lengths)
        np.subtract(flat.stamps, delta, out=delta)
        steps = delta // step
        np.remainder(delta, step, out=delta)
        return Steps(steps, delta == 0)
    ends = flat.index([int(flat.stamps.argmin()), int(flat.stamps.argmax())], zone)
    grid = pd.date_range(ends[0], ends[1], freq=offset, unit=flat.unit).asi8
    at = np.minimum(np.searchsorted(grid, flat.stamps), len(grid) - 1)
    on_grid = grid[at] == flat.stamps
    at -= np.repeat(at[flat.starts], flat.lengths)
    return Steps(at, on_grid, grid)


def regular(flat: Flat, steps: Steps, step_size: int | None) -> None:
    """Every series reindexed in place on its own grid from first to last stamp; new steps NaN.

    ``steps.step`` (ascending within each series) is taken out and reused as scratch.
    """
    step, steps.step, grid = steps.step, None, steps.grid
    old_starts = flat.starts
    lengths = step[old_starts + flat.lengths - 1] + 1
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    first = flat.stamps[old_starts]
    step += starts[flat.codes]  # now the row in the regular panel
    values = np.full((int(lengths.sum()), flat.values.shape[1]), np.nan)
    values[step] = flat.values
    del step
    flat.values = values
    flat.codes = np.repeat(np.arange(flat.n_series, dtype=flat.codes.dtype), lengths)
    if step_size is None and grid is None:  # frequency: rows, nothing inserted
        return
    within = np.arange(len(flat.codes), dtype=np.int64) - np.repeat(starts, lengths)
    if grid is None:
        within *= step_size
        within += np.repeat(first, lengths)
        flat.stamps = within
    else:
        within += np.repeat(np.searchsorted(grid, first), lengths)
        flat.stamps = grid[within]


def spans(n_rows: int, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """A mask of the rows inside any span ``first[i] … last[i]`` (disjoint spans)."""
    edges = np.zeros(n_rows + 1, dtype=np.int8)
    np.add.at(edges, first, 1)
    np.add.at(edges, last + 1, -1)
    return np.cumsum(edges[:-1], dtype=np.int8).view(bool)  # 0 or 1: the spans are disjoint


def complete_span(flat: Flat) -> tuple[np.ndarray, np.ndarray]:
    """Per series, the first and last row (absolute) with every value present; -1 when none.

    Only the incomplete rows are indexed (few in most panels): a series' leading incomplete
    rows are those whose position in the series equals their rank among its incomplete rows,
    its trailing ones likewise from the end.
    """
    incomplete = np.flatnonzero(np.isnan(flat.values).any(axis=1))
    codes = flat.codes[incomplete]
    starts, lengths = flat.starts, flat.lengths
    rank = np.arange(len(incomplete))
    lead = incomplete - starts[codes] == rank - np.searchsorted(codes, codes, "left")
    trail = (starts[codes] + lengths[codes] - 1 - incomplete
             == np.searchsorted(codes, codes, "right") - 1 - rank)
    leading = np.bincount(codes[lead], minlength=flat.n_series)
    trailing = np.bincount(codes[trail], minlength=flat.n_series)
    none = leading >= lengths  # no complete row (or no row at all)
    return (np.where(none, -1, starts + leading),
            np.where(none, -1, starts + lengths - 1 - trailing))


def longest_gaps(flat: Flat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per series, the longest run of missing steps in any column: length, first row, column.

    Runs never cross a series boundary once each series starts and ends with a complete row.
    """
    length = np.zeros(flat.n_series, dtype=np.int64)
    row = np.zeros(flat.n_series, dtype=np.int64)
    column = np.zeros(flat.n_series, dtype=np.int64)
    for j in range(flat.values.shape[1]):  # a loop over columns, not series
        starts, lengths = runs(np.isnan(flat.values[:, j]))
        if not len(starts):
            continue
        longest = pd.Series(lengths).groupby(flat.codes[starts]).idxmax().to_numpy()
        codes = flat.codes[starts[longest]]
        better = lengths[longest] > length[codes]
        codes = codes[better]
        length[codes] = lengths[longest][better]
        row[codes] = starts[longest][better]
        column[codes] = j
    return length, row, column


def interpolate(flat: Flat) -> np.ndarray:
    """Missing values filled linearly between their neighbours; returns the count per column.

    Each series starts and ends complete, so the neighbours always belong to the same series.
    Only the present rows' positions and the missing ones are indexed (no per-row float copy).
    """
    filled = np.zeros(flat.values.shape[1], dtype=np.int64)
    for j in range(flat.values.shape[1]):
        column = flat.values[:, j]
        missing = np.isnan(column)
        gaps = np.flatnonzero(missing)
        if not len(gaps):
            continue
        present = np.flatnonzero(~missing)
        del missing
        after = np.searchsorted(present, gaps)
        left, right = present[after - 1], present[after]
        del present
        share = (gaps - left) / (right - left)
        column[gaps] = column[left] + (column[right] - column[left]) * share
        filled[j] = len(gaps)
    return filled
