"""Write the CSVs of ``benchmarks/accuracy_test.py`` out of two wheels, without installing them.

Download the wheels (no dependencies, nothing installed), then extract:

    pip download --no-deps --only-binary=:all: pmdarima==2.1.1 statsmodels==0.15.0 -d wheels
    .venv/bin/python benchmarks/fetch_accuracy_data.py wheels accuracy-data

Every file is read from the wheel archive; arrays that pmdarima ships as literals in a module
are parsed with ``ast.literal_eval`` (nothing in a wheel is imported or executed).

=================  ==================================================  =====================
CSV                source in the wheel                                 licence
=================  ==================================================  =====================
taylor.csv         pmdarima 2.1.1, ``pmdarima/datasets/taylor.py``:    package MIT; data from
                   half-hourly electricity demand, England and Wales,  R's ``forecast``
                   2000-06-05 … 2000-08-27 (4032 points, MW)           (J. W. Taylor, 2003)
msft.csv           pmdarima 2.1.1, ``pmdarima/datasets/data/           package MIT; data from
                   msft.tar.gz`` → ``msft.csv``: MSFT daily prices     Kaggle's "price-volume
                   and volume, 1986-03-13 … 2017-11-10 (7983 rows)     data for all US stocks"
airpassengers.csv  pmdarima 2.1.1, ``pmdarima/datasets/                package MIT; Box &
                   airpassengers.py``: monthly airline passengers,     Jenkins series G
                   1949-01 … 1960-12 (144 points, thousands)
co2.csv            statsmodels 0.15.0, ``statsmodels/datasets/co2/     "public domain"
                   co2.csv``: Mauna Loa weekly CO2, 1958 … 2001        (statsmodels' COPYRIGHT)
sunspots.csv       statsmodels 0.15.0, ``statsmodels/datasets/         "public domain"
                   sunspots/sunspots.csv``: yearly sunspots 1700 … 2008 (statsmodels' COPYRIGHT)
=================  ==================================================  =====================
"""

from __future__ import annotations

import argparse
import ast
import io
import tarfile
import zipfile
from pathlib import Path

import pandas as pd


def wheel(folder: Path, package: str) -> zipfile.ZipFile:
    found = sorted(folder.glob(f"{package}-*.whl"))
    if not found:
        raise SystemExit(f"no {package} wheel in {folder}: run the pip download line of "
                         f"this script's docstring first")
    return zipfile.ZipFile(found[-1])


def literal_array(source: str, function: str) -> list[float]:
    """The list passed to the last ``np.array([...])`` in ``function``'s body: the data."""
    tree = ast.parse(source)
    body = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    calls = [n for n in ast.walk(body) if isinstance(n, ast.Call)
             and getattr(n.func, "attr", None) == "array" and n.args]
    return ast.literal_eval(calls[-1].args[0])


def module_series(archive: zipfile.ZipFile, module: str, function: str, start: str,
                  freq: str, column: str) -> pd.DataFrame:
    values = literal_array(archive.read(f"pmdarima/datasets/{module}.py").decode(), function)
    stamps = pd.date_range(start, periods=len(values), freq=freq)
    return pd.DataFrame({"date": stamps, column: values})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheels", type=Path, help="folder holding the downloaded wheels")
    parser.add_argument("out", type=Path, help="folder to write the CSVs to")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    pmd, sm = wheel(args.wheels, "pmdarima"), wheel(args.wheels, "statsmodels")
    tables = {
        "taylor": module_series(pmd, "taylor", "load_taylor", "2000-06-05", "30min", "demand"),
        "airpassengers": module_series(pmd, "airpassengers", "load_airpassengers",
                                       "1949-01-01", "MS", "passengers"),
    }
    with tarfile.open(fileobj=io.BytesIO(pmd.read("pmdarima/datasets/data/msft.tar.gz"))) as tar:
        tables["msft"] = pd.read_csv(tar.extractfile("msft.csv"))
    for name in ("co2", "sunspots"):
        tables[name] = pd.read_csv(io.BytesIO(sm.read(f"statsmodels/datasets/{name}/{name}.csv")),
                                   dtype=str)
    for name, table in tables.items():
        table.to_csv(args.out / f"{name}.csv", index=False)
        print(f"{args.out / name}.csv: {len(table)} rows, columns {list(table.columns)}")


if __name__ == "__main__":
    main()
