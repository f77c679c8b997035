"""The shared dataset loading path: files from --data-dir or a download, sha256, parsed cache,
and the parser helpers. Uses a small synthetic dataset written to tmp_path."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpbench import DataConfig
from gpbench.api.errors import DataError
from gpbench.data.datasource import (
    DatasetDeclaration,
    Parsed,
    RemoteFile,
    aggregate_mean,
    as_dosages,
    cache_path,
    join_by_id,
    load_declared,
    read_r,
)

CSV = ("id,m1,m2,m3,height\n"
       "b,0,1,2,1.5\n"
       "a,2,,0,2.5\n"
       "c,1,1,1,\n")
PARSES: list[int] = []


def _parse(files: dict[str, Path]) -> Parsed:
    PARSES.append(1)
    frame = pd.read_csv(files["toy.csv"], index_col="id")
    markers = pd.DataFrame({"chrom": ["1", "1", None], "pos": [10.0, 20.0, np.nan]},
                           index=["m1", "m2", "m3"])
    folds = pd.Series([0, 1, 0], index=frame.index)
    return Parsed(frame[["m1", "m2", "m3"]].to_numpy(), frame[["height"]], markers, folds)


def _decl(url: str = "https://example.invalid/toy.csv", sha: str | None = None,
          parse=_parse) -> DatasetDeclaration:
    sha = sha or hashlib.sha256(CSV.encode()).hexdigest()
    return DatasetDeclaration(
        name="toy", description="a toy", citation="nobody", licence="MIT", coding="0/1/2",
        version="toy@1", files=(RemoteFile("toy.csv", url, sha),), parse=parse,
        default_traits=("height",),
        references=({"trait": "height", "source": "X", "what": "GBLUP", "metric": "r",
                     "value": 0.5, "protocol": "unknown", "citation": "X 2020"},))


@pytest.fixture(autouse=True)
def _reset():
    PARSES.clear()


@pytest.fixture
def offline(monkeypatch):
    def refuse(*a, **k):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.mark.parametrize("sub", ["", "toy"])
def test_loads_from_data_dir_or_its_dataset_subdirectory(tmp_path, offline, sub):
    (tmp_path / "data" / sub).mkdir(parents=True, exist_ok=True)
    (tmp_path / "data" / sub / "toy.csv").write_text(CSV)
    ds = load_declared(_decl(), DataConfig(tmp_path / "cache", tmp_path / "data"))
    assert ds.sample_ids == ["b", "a", "c"] and ds.trait_names == ["height"]
    assert ds.genotypes.dtype == np.float32 and np.isnan(ds.genotypes[1, 1])
    assert ds.genotypes[0].tolist() == [0, 1, 2]
    assert ds.coding == "0/1/2" and ds.version == "toy@1" and ds.citation == "nobody"
    assert ds.markers.loc["m1"].tolist() == ["1", 10.0] and ds.markers.loc["m3", "chrom"] is None
    assert ds.published_folds.loc["a"] == 1
    assert np.isnan(ds.traits.loc["c", "height"])


def test_second_load_comes_from_the_cache(tmp_path, offline):
    (tmp_path / "toy.csv").write_text(CSV)
    config = DataConfig(tmp_path / "cache", tmp_path)
    first = load_declared(_decl(), config)
    second = load_declared(_decl(), config)
    assert len(PARSES) == 1
    assert np.array_equal(first.genotypes, second.genotypes, equal_nan=True)
    pd.testing.assert_frame_equal(first.traits, second.traits)
    pd.testing.assert_frame_equal(first.markers, second.markers)
    pd.testing.assert_series_equal(first.published_folds, second.published_folds)
    assert first.checksum == second.checksum
    # the cache serves even when the raw files are gone
    (tmp_path / "toy.csv").unlink()
    assert load_declared(_decl(), config).sample_ids == first.sample_ids


def test_parser_version_is_part_of_the_cache_key(tmp_path, offline):
    (tmp_path / "toy.csv").write_text(CSV)
    config = DataConfig(tmp_path / "cache", tmp_path)
    a = _decl()
    b = DatasetDeclaration(**{**a.__dict__, "parser_version": 2})
    assert cache_path(a, config) != cache_path(b, config)
    load_declared(a, config)
    load_declared(b, config)
    assert len(PARSES) == 2


def test_corrupt_cache_is_rebuilt(tmp_path, offline):
    (tmp_path / "toy.csv").write_text(CSV)
    config = DataConfig(tmp_path / "cache", tmp_path)
    load_declared(_decl(), config)
    path = cache_path(_decl(), config)
    path.write_bytes(path.read_bytes()[:100])  # truncated
    ds = load_declared(_decl(), config)
    assert len(PARSES) == 2 and ds.sample_ids == ["b", "a", "c"]
    load_declared(_decl(), config)
    assert len(PARSES) == 2  # the rebuilt cache is good


def test_checksum_mismatch_names_the_file(tmp_path, offline):
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "toy.csv").write_text(CSV.replace("1.5", "1.6"))
    with pytest.raises(DataError, match=r"checksum mismatch for .*toy/toy\.csv"):
        load_declared(_decl(), DataConfig(tmp_path / "cache", tmp_path))


def test_offline_without_files_names_urls_and_data_dir(tmp_path, offline):
    with pytest.raises(DataError) as exc:
        load_declared(_decl(), DataConfig(tmp_path / "cache", tmp_path / "empty"))
    msg = str(exc.value)
    assert "https://example.invalid/toy.csv" in msg and "--data-dir" in msg
    assert "GPBENCH_DATA_DIR" in msg and "not found in data directory" in msg
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_download_through_a_file_url_is_verified_and_cached(tmp_path):
    src = tmp_path / "remote" / "toy.csv"
    src.parent.mkdir()
    src.write_text(CSV)
    config = DataConfig(tmp_path / "cache")
    ds = load_declared(_decl(src.as_uri()), config)
    assert ds.sample_ids == ["b", "a", "c"]
    assert (tmp_path / "cache" / "toy" / "toy.csv").read_text() == CSV
    wrong = _decl(src.as_uri(), sha="0" * 64)
    with pytest.raises(DataError, match="expected 0000"):
        load_declared(wrong, DataConfig(tmp_path / "cache2"))
    assert not list((tmp_path / "cache2").rglob("toy.csv*"))


@pytest.fixture
def http_server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_from_a_local_http_server_checks_sha256(tmp_path, http_server):
    root, base = http_server
    (root / "toy.csv").write_text(CSV)
    ds = load_declared(_decl(f"{base}/toy.csv"), DataConfig(tmp_path / "cache"))
    assert ds.genotypes.shape == (3, 3)
    (root / "toy.csv").write_text(CSV + "d,0,0,0,1\n")  # changed upstream
    with pytest.raises(DataError, match=r"downloaded http://127\.0\.0\.1.*sha256"):
        load_declared(_decl(f"{base}/toy.csv"), DataConfig(tmp_path / "other"))
    assert not (tmp_path / "other" / "toy" / "toy.csv").exists()


def test_spec_carries_metadata(tmp_path, offline):
    (tmp_path / "toy.csv").write_text(CSV)
    spec = _decl().spec()
    assert spec.name == "toy" and spec.default_traits == ("height",)
    assert spec.references[0]["metric"] == "r"
    assert spec.load(DataConfig(tmp_path / "cache", tmp_path)).name == "toy"


def test_reference_rows_need_a_metric():
    with pytest.raises(ValueError, match="metric"):
        DatasetDeclaration(**{**_decl().__dict__, "references": ({"trait": "h", "r2": .5},)})


def test_parse_errors_become_one_line_data_errors(tmp_path, offline):
    def broken(files):
        raise KeyError("wheat.X")

    (tmp_path / "toy.csv").write_text(CSV)
    with pytest.raises(DataError, match="could not parse.*KeyError"):
        load_declared(_decl(parse=broken), DataConfig(tmp_path / "cache", tmp_path))

    def dup(files):
        p = _parse(files)
        p.traits.index = ["a", "a", "b"]
        return p

    with pytest.raises(DataError, match="duplicate sample ids"):
        load_declared(_decl(parse=dup), DataConfig(tmp_path / "cache", tmp_path))


def test_as_dosages_uses_int8_only_when_complete():
    assert as_dosages(np.array([[0.0, 1.0], [2.0, -1.0]])).dtype == np.int8
    assert as_dosages(np.array([[0.0, np.nan]])).dtype == np.float32
    assert as_dosages(np.array([[0.5, 1.0]])).dtype == np.float32
    assert as_dosages(np.array([[0, 300]])).dtype == np.float32
    with pytest.raises(DataError, match="2-D"):
        as_dosages(np.zeros(3))


def test_join_by_id_matches_names_not_rows():
    pheno = pd.DataFrame({"ID": ["c", "a", "z"], "y": [3.0, 1.0, 9.0]})
    rows, frame = join_by_id(["a", "b", "c"], pheno, "ID", "toy")
    assert rows.tolist() == [0, 2]
    assert frame.index.tolist() == ["a", "c"] and frame["y"].tolist() == [1.0, 3.0]
    assert "ID" not in frame
    with pytest.raises(DataError, match="no genotype id matches"):
        join_by_id(["x"], pheno, "ID", "toy")
    with pytest.raises(DataError, match="aggregate them"):
        join_by_id(["a"], pd.DataFrame({"ID": ["a", "a"], "y": [1, 2]}), "ID", "toy")
    with pytest.raises(DataError, match="duplicate genotype ids"):
        join_by_id(["a", "a"], pheno, "ID", "toy")


def test_aggregate_mean_per_individual():
    frame = pd.DataFrame({"Ind": ["t2", "t1", "t2", "t1"], "w": [1.0, 2.0, 3.0, np.nan],
                          "note": ["x", "y", "z", "w"]})
    out = aggregate_mean(frame, "Ind", ["w"])
    assert out["Ind"].tolist() == ["t2", "t1"] and out["w"].tolist() == [2.0, 2.0]
    with pytest.raises(DataError, match="'note'.*not numeric|not numeric.*note"):
        aggregate_mean(frame, "Ind", ["w", "note"])


def test_read_r_reads_workspaces_and_names_bad_files(tmp_path):
    import rdata

    path = tmp_path / "x.rda"
    rdata.write_rda(path, {"v": np.array([1.0, 2.0])})
    assert np.asarray(read_r(path)["v"]).tolist() == [1.0, 2.0]
    (tmp_path / "bad.rda").write_bytes(b"not R")
    with pytest.raises(DataError, match="bad.rda"):
        read_r(tmp_path / "bad.rda")
