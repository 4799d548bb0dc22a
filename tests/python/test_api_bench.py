"""optic.bench and optic.report from the installed package: the rows are the CLI's (its own
--validate accepts the file; the returned dicts are the file's lines), bad settings raise."""
import json
import os
import subprocess
from pathlib import Path

import pytest

import optic

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
QUICK = {"min_duration_s": 0.1, "max_duration_s": 0.4, "warmup_ms": 10, "warmup_runs": 1}


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results.jsonl"
    return optic.bench("tiny_cnn", ["onnxruntime", "openvino"], batch=[1, 2], precision="fp32",
                       scenario="offline", threads=1, models_dir=str(MODELS), settings=QUICK,
                       out=str(out))


def test_bench_rows_are_the_cli_schema(rows):
    assert rows.path and os.path.exists(rows.path)
    assert sorted((r["backend"], r["batch_size"]) for r in rows) == [
        ("onnxruntime", 1), ("onnxruntime", 2), ("openvino", 1), ("openvino", 2)]
    assert all(r["status"] == "ok" and r["throughput_per_s"] > 0 for r in rows)
    with open(rows.path) as f:
        assert [json.loads(line) for line in f] == list(rows)
    cli = Path(optic.__file__).parent / "bin" / "optic"
    check = subprocess.run([str(cli), "bench", "--validate", rows.path], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "4 rows, 0 invalid" in check.stdout


def test_to_pandas(rows):
    pandas = pytest.importorskip("pandas")
    df = rows.to_pandas()
    assert isinstance(df, pandas.DataFrame) and len(df) == 4


def test_report_from_rows_and_paths(rows, tmp_path):
    html = tmp_path / "report.html"
    text = optic.report(rows, out=str(html), markdown=str(tmp_path / "s.md"), quiet=True)
    assert "tiny_cnn" in text and "onnxruntime" in text and "openvino" in text
    assert html.stat().st_size > 1000 and (tmp_path / "s.md").read_text().count("tiny_cnn")
    assert optic.report(rows.path, quiet=True) == text


def test_bench_and_report_errors(tmp_path):
    with pytest.raises(optic.InvalidArgumentError, match="unknown key 'no_such_key'"):
        optic.bench("tiny_cnn", no_such_key=1)
    with pytest.raises(optic.InvalidArgumentError, match="repeat"):
        optic.bench("tiny_cnn", repeat=0)
    with pytest.raises(optic.Error, match="no_such_backend"):
        optic.bench("tiny_cnn", "no_such_backend", models_dir=str(MODELS), out=str(tmp_path / "r.jsonl"))
    with pytest.raises(optic.Error, match="missing.jsonl"):
        optic.report(str(tmp_path / "missing.jsonl"), quiet=True)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("{not json\n")
    with pytest.raises(optic.Error):
        optic.report(str(damaged), quiet=True)
    with pytest.raises(optic.InvalidArgumentError, match="results files .paths. or rows"):
        optic.report([1, 2], quiet=True)
