"""Bad own-data files: one line naming the file, the row/column and the fix."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import gpbench_files
from gpbench import DataConfig
from gpbench.api.errors import DataError
from gpbench.cli import main
from gpbench_files.writers import write_matrix, write_phenotypes, write_plink, write_vcf
from tests.own_data import cross, with_checkout_plugins


def load(geno: Path, pheno: Path | None = None, **options: str):
    opts = {"geno": str(geno), **({"pheno": str(pheno)} if pheno else {}), **options}
    return gpbench_files.load(DataConfig(Path("."), None, opts))


def fails(match: str, geno: Path, pheno: Path | None = None, **options: str) -> str:
    with pytest.raises(DataError, match=match) as info:
        load(geno, pheno, **options)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.fixture
def good(tmp_path):
    ids, dos, markers, traits = cross(20, 30, seed=1)
    return {"ids": ids, "dos": dos, "markers": markers, "traits": traits,
            "csv": write_matrix(tmp_path / "g.csv", ids, dos, markers),
            "pheno": write_phenotypes(tmp_path / "p.csv", traits), "dir": tmp_path}


def test_files_that_are_missing_or_unreadable(good, tmp_path):
    fails(r"nope\.csv: genotype file not found", tmp_path / "nope.csv", good["pheno"])
    fails(r"nope\.csv: phenotype file not found", good["csv"], tmp_path / "nope.csv")
    binary = tmp_path / "g2.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage\x00\x9f" * 10)
    fails(r"g2\.csv: cannot read it as text", binary, good["pheno"])
    notgz = tmp_path / "g.vcf.gz"
    notgz.write_bytes(b"this is not gzip")
    fails(r"g\.vcf\.gz: cannot read it as a VCF", notgz, good["pheno"])
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    fails(r"empty\.csv: the file is empty", good["csv"], empty)
    with pytest.raises(DataError, match="needs a genotype file: --geno FILE"):
        gpbench_files.load(DataConfig(Path("."), None, {"pheno": str(good["pheno"])}))
    with pytest.raises(DataError, match="no option.*'phenotype'"):
        gpbench_files.load(DataConfig(Path("."), None, {"geno": str(good["csv"]),
                                                         "phenotype": "x"}))


def test_wrong_delimiter(good, tmp_path):
    spaces = tmp_path / "spaces.txt"
    spaces.write_text("id trait1 trait2\nind000 1.0 2.0\n")
    fails(r"spaces\.txt: the header line has a single column", good["csv"], spaces)
    ragged = tmp_path / "ragged.csv"
    lines = good["pheno"].read_text().splitlines()
    lines[3] = lines[3] + ",7.5"
    ragged.write_text("\n".join(lines) + "\n")
    fails(r"ragged\.csv: rows have different numbers of comma-separated fields.*line 4",
          good["csv"], ragged)
    # semicolons between fields, commas as decimal marks: the cell is not a number
    euro = tmp_path / "euro.csv"
    euro.write_text("id;trait1\nind000;1,5\nind001;2,0\n")
    fails(r"euro\.csv: row 2 \(id 'ind000'\), column 'trait1': phenotype '1,5' is not a number",
          good["csv"], euro)


def test_non_numeric_dosage_and_phenotype(good, tmp_path):
    text = good["csv"].read_text().splitlines()
    cells = text[5].split(",")
    cells[7] = "AG"
    text[5] = ",".join(cells)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(text) + "\n")
    column = text[0].split(",")[7]
    fails(rf"bad\.csv: row 6 \(id 'ind004'\), column '{column}': dosage 'AG' is not a number",
          bad, good["pheno"])
    pheno = good["pheno"].read_text().replace("\nind002,", "\nind002,tall", 1)
    (tmp_path / "bad_pheno.csv").write_text(pheno)
    fails(r"bad_pheno\.csv: row 4 \(id 'ind002'\), column 'trait1'", good["csv"],
          tmp_path / "bad_pheno.csv")


def test_header_names_with_spaces_or_quotes(good, tmp_path):
    spaced = tmp_path / "spaced.csv"
    spaced.write_text('id ,"trait1", trait2\n' + "\n".join(
        good["pheno"].read_text().splitlines()[1:]) + "\n")
    ds = load(good["csv"], spaced)
    assert list(ds.traits.columns) == ["trait1", "trait2"]
    assert np.allclose(ds.traits.loc["ind003"].to_numpy(float),
                       good["traits"].loc["ind003"].to_numpy(float), equal_nan=True)
    spaced.write_text("id ,trait1\nind000,tall\n")
    fails(r"spaced\.csv: row 2 \(id 'ind000'\), column 'trait1'", good["csv"], spaced)
    twice = tmp_path / "twice.csv"
    twice.write_text("id,trait1,trait1 \nind000,1,2\n")
    fails(r"twice\.csv: the header names column\(s\) \['trait1'\] more than once", good["csv"],
          twice)


def test_a_genotype_and_a_phenotype_file_of_the_same_name_are_both_hashed(good, tmp_path):
    (tmp_path / "geno").mkdir()
    (tmp_path / "pheno").mkdir()
    geno = write_matrix(tmp_path / "geno" / "data.csv", good["ids"], good["dos"],
                        good["markers"])
    pheno = write_phenotypes(tmp_path / "pheno" / "data.csv", good["traits"])
    before = load(geno, pheno).checksum
    dos = good["dos"].copy()
    dos[0, 0] = 2.0 - dos[0, 0]
    write_matrix(geno, good["ids"], dos, good["markers"])
    changed_geno = load(geno, pheno).checksum
    traits = good["traits"].copy()
    traits.iloc[0, 0] += 1.0
    write_phenotypes(pheno, traits)
    assert len({before, changed_geno, load(geno, pheno).checksum}) == 3


def test_duplicate_ids(good, tmp_path):
    ids = list(good["ids"])
    ids[3] = ids[2]
    fails(r"dup\.csv, line 5: duplicate id \(column 'id'\) 'ind002' \(first on line 4\)",
          write_matrix(tmp_path / "dup.csv", ids, good["dos"], good["markers"]), good["pheno"])
    fails(r"dup\.fam, line 4: duplicate individual id \(column 2\) 'ind002' \(first on "
          r"line 3\)", write_plink(tmp_path / "dup", ids, good["dos"], good["markers"]),
          good["pheno"])
    fails(r"dup\.vcf: duplicate individual ids \['ind002'\]", write_vcf(
        tmp_path / "dup.vcf", ids, good["dos"], good["markers"]), good["pheno"])
    traits = good["traits"].copy()
    traits.index = ids
    fails(r"dup_p\.csv, line \d+: duplicate id \(column 'id'\) 'ind002'", good["csv"],
          write_phenotypes(tmp_path / "dup_p.csv", traits))
    markers = good["markers"].copy()
    markers.index = ["m0"] * 2 + list(markers.index[2:])
    fails(r"dupm\.vcf: duplicate marker ids \['m0'\]", write_vcf(
        tmp_path / "dupm.vcf", good["ids"], good["dos"], markers), good["pheno"])


def test_no_overlapping_ids(good, tmp_path):
    traits = good["traits"].copy()
    traits.index = [f"X{i}" for i in range(len(traits))]
    msg = fails(r"no individual id is in both g\.csv and other\.csv", good["csv"],
                write_phenotypes(tmp_path / "other.csv", traits))
    assert "--id-column" in msg and "ind000" in msg and "X0" in msg


def test_a_trait_column_with_no_value(good, tmp_path):
    traits = good["traits"].copy()
    traits["trait2"] = np.nan
    fails(r"empty_trait\.csv: trait column\(s\) \['trait2'\] have no measured value",
          good["csv"], write_phenotypes(tmp_path / "empty_trait.csv", traits))


def test_vcf_without_gt(good, tmp_path):
    path = write_vcf(tmp_path / "g.vcf", good["ids"], good["dos"], good["markers"])
    text = path.read_text().replace("\tGT\t", "\tDS\t")
    nogt = tmp_path / "nogt.vcf.gz"
    with gzip.open(nogt, "wt") as fh:
        fh.write(text)
    fails(r"nogt\.vcf\.gz: line 4: no GT field in FORMAT \('DS'\)", nogt, good["pheno"])
    (tmp_path / "sites.vcf").write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\t"
                                        "QUAL\tFILTER\tINFO\n1\t5\trs1\tA\tG\t.\t.\t.\n")
    fails(r"sites\.vcf: line 2: the #CHROM header has no FORMAT and sample columns",
          tmp_path / "sites.vcf", good["pheno"])


def test_bed_that_does_not_match_its_fam_and_bim(good, tmp_path):
    bed = write_plink(tmp_path / "g", good["ids"], good["dos"], good["markers"])
    fam = tmp_path / "g.fam"
    fam.write_text(fam.read_text() + "0 extra1 0 0 0 -9\n" * 4)  # 24 individuals: 6 bytes/SNP
    fails(r"g\.bed has \d+ bytes but g\.fam \(24 individuals\) and g\.bim \(30 markers\) imply "
          r"\d+; .*plink --make-bed", bed, good["pheno"])
    (tmp_path / "g.bim").unlink()
    fails(r"g\.bim not found", bed, good["pheno"])
    (tmp_path / "h.bed").write_bytes(b"not a bed file")
    (tmp_path / "h.bim").write_text("")
    (tmp_path / "h.fam").write_text("")
    fails(r"h\.bed is not a PLINK \.bed file", tmp_path / "h.bed", good["pheno"])


def test_the_cli_prints_one_line_without_traceback(good, tmp_path, monkeypatch, capsys):
    with_checkout_plugins(monkeypatch, tmp_path / "dist")
    traits = good["traits"].copy()
    traits["trait1"] = np.nan
    pheno = write_phenotypes(tmp_path / "p2.csv", traits)
    code = main(["run", "--geno", str(good["csv"]), "--pheno", str(pheno), "--models", "ridge",
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("gpbench: error: ") and "['trait1']" in err[-1]
    assert "Traceback" not in "\n".join(err)


def test_genotypes_without_phenotypes_cannot_be_benchmarked(good, tmp_path, monkeypatch,
                                                             capsys):
    with_checkout_plugins(monkeypatch, tmp_path / "dist")
    ds = load(good["csv"])  # genotypes only: what predict reads for new individuals
    assert ds.trait_names == [] and ds.sample_ids == good["ids"]
    assert main(["run", "--dataset", "files", "--dataset-option", f"geno={good['csv']}",
                 "--models", "ridge", "--out", str(tmp_path / "run")]) == 2
    assert "has no traits to benchmark" in capsys.readouterr().err
