"""Own files that work on the first try: pandas-written sheets, text columns, the id column,
one-line errors naming file, row and column, no leftover --out directory, --device cuda."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gpbench_files
from gpbench import DataConfig, DataError
from gpbench.cli import main
from gpbench_files.writers import write_matrix, write_plink
from tests.own_data import cross, with_checkout_plugins

N, P = 40, 60


def load(geno: Path, pheno: Path, **options: str):
    return gpbench_files.load(DataConfig(Path("."), None, {"geno": str(geno),
                                                           "pheno": str(pheno), **options}))


def fails(match: str, geno: Path, pheno: Path, **options: str) -> str:
    with pytest.raises(DataError, match=match) as info:
        load(geno, pheno, **options)
    assert "\n" not in str(info.value)
    return str(info.value)


def last_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("gpbench: error: ") and "Traceback" not in "\n".join(err)
    return err[-1]


@pytest.fixture
def data(tmp_path):
    """PLINK genotypes (ids ind000..) and the phenotype sheet a pandas user writes: a text
    name column first, the genotype ids second, NaN cells (written empty) and a text column
    with gaps."""
    ids, dos, markers, traits = cross(N, P, seed=5)
    rng = np.random.default_rng(5)
    sheet = pd.DataFrame({"name": [f"Line {i} (Rice)" for i in range(N)], "plink_id": ids,
                          "yield": traits.iloc[:, 0].to_numpy(),
                          "height": traits.iloc[:, 1].to_numpy(),
                          "origin": rng.choice(["India", "Japan", None], N)})
    sheet.loc[[3, 7, 20], "yield"] = np.nan
    sheet.loc[[5], "height"] = np.nan
    pheno = tmp_path / "pheno.csv"
    sheet.to_csv(pheno, index=False)
    return {"geno": write_plink(tmp_path / "geno", ids, dos, markers), "pheno": pheno,
            "sheet": sheet, "ids": ids, "dos": dos, "markers": markers, "dir": tmp_path}


def test_a_pandas_written_sheet_runs_end_to_end_through_the_cli(data, tmp_path, monkeypatch,
                                                                 capsys):
    with_checkout_plugins(monkeypatch, tmp_path / "dist")
    assert ",," in data["pheno"].read_text()  # NaN is an empty cell, as pandas writes it
    out = tmp_path / "run"
    assert main(["run", "--geno", str(data["geno"]), "--pheno", str(data["pheno"]),
                 "--id-column", "plink_id", "--models", "ridge", "--folds", "3",
                 "--executor", "inline", "--no-report", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("pheno.csv: ignored text column(s) 'name', 'origin' (no numbers, not traits; "
            "--ignore-columns name,origin silences this note)") in err
    assert f"{N} individuals in both geno.bed ({N}) and pheno.csv ({N})" in err
    run = json.loads((out / "run.json").read_text())
    assert run["run_config"]["traits"] == ["yield", "height"]
    board = (out / "leaderboard.md").read_text()
    assert "## yield" in board and "## height" in board
    ds = load(data["geno"], data["pheno"], id_column="plink_id")
    assert ds.traits["yield"].isna().sum() == data["sheet"]["yield"].isna().sum() >= 3
    expected = data["sheet"].set_index("plink_id")[["yield", "height"]]
    assert np.array_equal(ds.traits.to_numpy(), expected.loc[ds.sample_ids].to_numpy(),
                          equal_nan=True)
    # named explicitly, the text columns are left out without a note
    assert main(["list", "--geno", str(data["geno"]), "--pheno", str(data["pheno"]),
                 "--id-column", "plink_id", "--ignore-columns", "name,origin"]) == 0
    captured = capsys.readouterr()
    assert "ignored text column" not in captured.err and "traits of files (2;" in captured.out


def test_without_id_column_the_error_proposes_the_column_of_genotype_ids(data, tmp_path,
                                                                       monkeypatch, capsys):
    with_checkout_plugins(monkeypatch, tmp_path / "dist")
    out = tmp_path / "runs" / "mine"
    assert main(["run", "--geno", str(data["geno"]), "--pheno", str(data["pheno"]),
                 "--models", "ridge", "--executor", "inline", "--out", str(out)]) == 2
    line = last_error_line(capsys)
    assert line.endswith("pheno.csv: no id in column 'name' (like ['Line 0 (Rice)', "
                         "'Line 1 (Rice)']) is a genotype id of geno.bed (like ['ind000', "
                         f"'ind001']), but column 'plink_id' holds {N}: add --id-column "
                         "plink_id")
    assert not (tmp_path / "runs").exists()  # refused: no empty --out directory left
    # a trait whose values happen to equal a few ids does not win over the id column
    sheet = data["sheet"].copy()
    sheet.insert(1, "code", ["ind001", "ind002"] + ["x"] * (N - 2))
    sheet.to_csv(data["pheno"], index=False)
    assert "column 'plink_id' holds 40: add --id-column plink_id" in fails(
        "no id in column 'name'", data["geno"], data["pheno"])


@pytest.mark.parametrize("cell", ["", "NA", "NaN", "nan", "N/A", "NULL", ".", "-", " NA ",
                                  "  "])
def test_missing_value_spellings(data, cell):
    lines = data["pheno"].read_text().splitlines()
    cells = lines[2].split(",")
    assert cells[:2] == ["Line 1 (Rice)", "ind001"]
    cells[2] = cell  # the yield of ind001
    lines[2] = ",".join(cells)
    data["pheno"].write_text("\n".join(lines) + "\n")
    ds = load(data["geno"], data["pheno"], id_column="plink_id")
    assert np.isnan(ds.traits.loc["ind001", "yield"])
    assert ds.traits["yield"].isna().sum() == data["sheet"]["yield"].isna().sum() + 1
    assert ds.traits.loc["ind000", "yield"] == data["sheet"].loc[0, "yield"]


def test_every_data_error_names_file_row_and_column(data, tmp_path):
    sheet = data["sheet"].copy()
    sheet["yield"] = sheet["yield"].astype(object)
    sheet.loc[6, "yield"] = "12,5 t"
    bad = tmp_path / "typo.csv"
    sheet.to_csv(bad, index=False)
    fails(r"typo\.csv: row 8 \(id 'ind006'\), column 'yield': phenotype '12,5 t' is not a "
          r"number; .*--ignore-columns yield$", data["geno"], bad, id_column="plink_id")
    sheet = data["sheet"].copy()
    sheet.loc[9, "plink_id"] = None
    sheet.to_csv(tmp_path / "noid.csv", index=False)
    fails(r"noid\.csv: row 11, column 'plink_id': the id is empty or NA", data["geno"],
          tmp_path / "noid.csv", id_column="plink_id")
    fails(r"pheno\.csv: no column\(s\) \['colour'\] to ignore", data["geno"], data["pheno"],
          id_column="plink_id", ignore_columns="origin,colour")
    fails(r"pheno\.csv: column 'plink_id' is the id column", data["geno"], data["pheno"],
          id_column="plink_id", ignore_columns="plink_id")
    fails(r"pheno\.csv: no id column 'ID'", data["geno"], data["pheno"], id_column="ID")
    # genotype matrices stay strict: a text cell among dosages names its row and column
    geno = write_matrix(tmp_path / "g.csv", data["ids"], data["dos"], data["markers"])
    text = geno.read_text().splitlines()
    cells = text[4].split(",")
    cells[3] = " AG "
    text[4] = ",".join(cells)
    geno.write_text("\n".join(text) + "\n")
    marker = text[0].split(",")[3]
    fails(rf"g\.csv: row 5 \(id 'ind003'\), column '{marker}': dosage ' AG ' is not a number",
          geno, data["pheno"], id_column="plink_id")
    # blanks around numbers and NA are read where the fast parser refuses them
    text[4] = text[4].replace(" AG ", " NA ")
    geno.write_text("\n".join(text) + "\n")
    ds = load(geno, data["pheno"], id_column="plink_id")
    assert np.isnan(ds.genotypes[3, 2])


def test_a_ragged_row_is_named_when_columns_are_ignored(data, tmp_path):
    lines = data["pheno"].read_text().splitlines()
    lines[4] += ",extra"
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("\n".join(lines) + "\n")
    fails(r"ragged\.csv: rows have different numbers of comma-separated fields.*line 5",
          data["geno"], ragged, id_column="plink_id", ignore_columns="name,origin")


def test_list_traits_prints_only_the_traits(capsys):
    assert main(["list", "--traits", "sim", "--dataset-option", "n_strains=50",
                 "--dataset-option", "n_markers=40"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].startswith("sim: 50 samples x 40 markers")
    assert lines[1].startswith("traits of sim (")
    assert "datasets:" not in out and "models:" not in out and "ridge" not in out
    assert len(lines) < 30


def test_a_refused_run_leaves_no_out_directory(data, tmp_path, monkeypatch, capsys):
    with_checkout_plugins(monkeypatch, tmp_path / "dist")
    base = ["run", "--geno", str(data["geno"]), "--pheno", str(data["pheno"]),
            "--id-column", "plink_id", "--models", "ridge", "--executor", "inline"]
    out = tmp_path / "a" / "b" / "run"
    assert main([*base, "--envs", "weight", "--out", str(out)]) == 2  # after the data loaded
    assert "unknown trait 'weight'" in last_error_line(capsys)
    assert not (tmp_path / "a").exists()
    assert main([*base, "--folds", "30", "--out", str(out)]) == 2  # folds too small
    assert "too few for 30-fold CV" in last_error_line(capsys)
    assert not (tmp_path / "a").exists()
    # a directory that was there before is kept, with what it held
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    assert main([*base, "--envs", "weight", "--out", str(out)]) == 2
    assert (out / "notes.txt").read_text() == "mine"


def test_device_cuda_without_a_gpu_is_refused_before_any_unit(tmp_path, monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "run"
    assert main(["run", "--models", "ridge", "--dataset", "sim", "--device", "cuda",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["gpbench: error: --device cuda: torch sees no CUDA GPU on this machine; "
                   "use --device auto (GPU when there is one) or --device cpu"]
    assert not out.exists()
    assert main(["predict", "--model", "ridge", "--dataset", "sim", "--device", "cuda",
                 "--new", str(tmp_path / "new.csv"), "--out", str(tmp_path / "p.csv")]) == 2
    assert "--device cuda: torch sees no CUDA GPU" in capsys.readouterr().err
