"""The raw table from a real PostgreSQL (`kedro run --env sql`): a time-windowed query, the
database's own column types, a retrain that reads the rows appended since the last run, and
clear errors when the database or the query fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pandas as pd
import psycopg
import pytest
from mlflow.tracking import MlflowClient

from seqcast.cleaning import ingest
from seqcast.cli import known_failure
from seqcast.datasets.raw import RawSQLDataset, RawTableError
from seqcast.windows import WindowGeometry
from tests.conftest import FAST, ROOT, run_kedro
from tests.postgres import postgres_server
from tests.test_tracking_server import free_port

pytestmark = pytest.mark.slow  # every test here starts PostgreSQL

WEATHER = ("CREATE TABLE weather (date date, precipitation double precision, "
           "temp_max double precision, temp_min double precision, wind double precision, "
           "weather text)")
BASE_DATA = {"time_column": "date", "targets": ["temp_max"], "features": None,
             "frequency": None, "duplicates": "error", "max_gap": 3, "path": "table weather"}
BASE_WINDOWS = {"n_seq": 4, "n_steps": 7, "horizon": 7, "season_length": 7, "origins": 8,
                "validation_origins": 16}


@pytest.fixture(scope="module")
def database():
    with postgres_server("raw") as url:
        yield url


def execute(url: str, *statements: str) -> None:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def append(url: str, table: str, frame: pd.DataFrame) -> None:
    """Rows appended the way a loader would: COPY into the existing table."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        with conn.cursor().copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN") as copy:
            for row in frame.itertuples(index=False):
                copy.write_row([None if pd.isna(v) else v for v in row])


def seattle() -> pd.DataFrame:
    frame = pd.read_csv(ROOT / "data/01_raw/seattle-weather.csv")
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


def series_file(project) -> pd.DataFrame:
    return pd.read_parquet(project / "data/02_intermediate/series.parquet")


def test_retrain_reads_rows_appended_since_last_run(database, project, monkeypatch):
    """Run, append two weeks of rows to the table, run again: the second retrain's series and
    registered versions end at the new last day, and the 730-day window has moved with it."""
    weather = seattle()
    execute(database, "DROP TABLE IF EXISTS weather", WEATHER)
    append(database, "weather", weather.iloc[:-14])
    monkeypatch.setenv("SEQCAST_RAW_DB", database)
    fast = {ns: {**spec, "training": {"epochs": 1, "patience": 1}} for ns, spec in FAST.items()}

    run_kedro(project, ["retrain"], params=fast, env="sql")
    first = series_file(project)
    assert str(first.index[-1].date()) == "2015-12-17" and len(first) == 730

    append(database, "weather", weather.iloc[-14:])
    run_kedro(project, ["retrain"], params=fast, env="sql")
    second = series_file(project)
    assert str(second.index[-1].date()) == "2015-12-31" and len(second) == 730
    assert second.index[0] - first.index[0] == pd.Timedelta(days=14)
    expected = weather.set_index(pd.to_datetime(weather["date"]))["temp_max"].iloc[-730:]
    assert second["temp_max"].tolist() == expected.tolist()

    client = MlflowClient()
    experiment = client.get_experiment_by_name("seqcast").experiment_id
    for family in FAST:
        runs = client.search_runs([experiment], f"tags.namespace = '{family}'")
        assert sorted(r.data.tags["data_end"][:10] for r in runs) == ["2015-12-17", "2015-12-31"]
        # version 2 was trained on the new rows; version 1, if the gate made it champion,
        # was scored on them too (its first score stays under its own date)
        versions = {int(v.version): v for v in
                    client.search_model_versions(f"name='seqcast-{family}'")}
        assert versions[2].tags["data_end"][:10] == "2015-12-31"
        first = versions[1].tags
        rescored = versions[2].tags["champion_version"] == "1"
        assert first["data_end"][:10] == ("2015-12-31" if rescored else "2015-12-17")
        assert "mase_on_2015-12-17" in first and ("mase_on_2015-12-31" in first) == rescored


def test_sql_source_from_conf_local(database, project, monkeypatch):
    """Kedro reads conf/local only without --env: conf/sql's files copied there, with the URL in
    the git-ignored conf/local/credentials.yml, make a plain `kedro run` read the database."""
    execute(database, "DROP TABLE IF EXISTS weather", WEATHER)
    append(database, "weather", seattle())
    monkeypatch.delenv("SEQCAST_RAW_DB", raising=False)
    for name in ("catalog.yml", "globals.yml", "parameters.yml"):
        shutil.copy(ROOT / "conf/sql" / name, project / "conf/local" / name)
    (project / "conf/local/credentials.yml").write_text(f"raw_db:\n  con: {database}\n")
    run_kedro(project, ["ingestion"], params={"data": {"history": "300 days"}})
    series = series_file(project)
    assert str(series.index[-1].date()) == "2015-12-31" and len(series) == 300

def test_database_column_types_ingest_alike(database):
    """DATE, TIMESTAMP and TIMESTAMPTZ time columns and NUMERIC values give the same series."""
    weather = seattle().iloc[-300:]
    execute(database, "DROP TABLE IF EXISTS typed",
            "CREATE TABLE typed (day date, at timestamp, at_utc timestamptz, "
            "temp_max numeric(5, 1), wind double precision)")
    frame = pd.DataFrame({"day": weather["date"], "temp_max": weather["temp_max"],
                          "wind": weather["wind"]})
    append(database, "typed", frame)
    execute(database, "UPDATE typed SET at = day::timestamp, "
                      "at_utc = day::timestamp AT TIME ZONE 'UTC'")
    raw = RawSQLDataset(sql="SELECT * FROM typed ORDER BY day",
                        credentials={"con": database}).load()
    assert str(raw["at_utc"].dtype).endswith("UTC]") and raw["temp_max"].dtype == "float64"
    series = {}
    for column in ("day", "at", "at_utc"):
        data = {**BASE_DATA, "time_column": column, "features": ["temp_max", "wind"]}
        clean, _ = ingest(raw.drop(columns={"day", "at", "at_utc"} - {column}), data,
                          WindowGeometry.from_params(BASE_WINDOWS))
        series[column] = clean
    assert series["day"].index.equals(series["at"].index)
    assert series["at_utc"].index.tz_convert(None).equals(series["at"].index)
    for clean in series.values():
        assert clean["temp_max"].dtype == "float64" and len(clean) == 300
        assert clean["temp_max"].tolist() == weather["temp_max"].tolist()


def test_database_errors_name_the_query_and_hide_the_password(database):
    execute(database, "DROP TABLE IF EXISTS weather", WEATHER)
    with pytest.raises(RawTableError, match=r"query 'SELECT \* FROM nope'.*the query failed "
                                            r"\(relation \"nope\" does not exist\)"):
        RawSQLDataset(sql="SELECT * FROM nope", credentials={"con": database}).load()
    with pytest.raises(RawTableError, match=r"no rows .*data\.history"):
        RawSQLDataset(sql="SELECT * FROM weather", credentials={"con": database}).load()

    closed = f"postgresql+psycopg://reader:s3cret-pw@127.0.0.1:{free_port()}/raw"
    with pytest.raises(RawTableError, match=r"cannot connect \(connection failed") as error:
        RawSQLDataset(sql="SELECT 1", credentials={"con": closed}).load()
    assert "reader:***@127.0.0.1" in str(error.value) and "s3cret-pw" not in str(error.value)


def test_sql_env_without_database_url_says_what_to_set(project, monkeypatch):
    monkeypatch.delenv("SEQCAST_RAW_DB", raising=False)
    with pytest.raises(Exception) as error:
        run_kedro(project, ["ingestion"], env="sql")
    assert "export SEQCAST_RAW_DB=" in known_failure(error.value)


def test_kedro_run_on_unreachable_database_is_one_error_line(project):
    url = f"postgresql+psycopg://reader:s3cret-pw@127.0.0.1:{free_port()}/raw"
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "sql", "--pipelines", "ingestion"],
        cwd=project, env={**os.environ, "SEQCAST_RAW_DB": url}, capture_output=True, text=True,
        timeout=300, check=False)
    assert result.returncode == 1, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "cannot connect" in errors[0], result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "s3cret-pw" not in result.stderr + result.stdout
    assert not (project / "data/02_intermediate/series.parquet").exists()
