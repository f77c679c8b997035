"""Where gbm's large margins on mice and soynam come from: two one-feature baselines.

Each baseline predicts a test individual by the mean phenotype of its group among the
*training* rows of the committed leaderboard's outer folds (fold seed 0), so it is scored on
the same test rows as the models:

- **mice, sex read from the genotypes**: a mouse is called female when more than 20% of its
  chromosome-X markers are heterozygous (males are hemizygous, so their X calls are
  homozygous up to genotyping error). The threshold is fixed, not fitted; the call is checked
  against the data's ``GENDER`` column, which gpbench does not give the models.
- **soynam, family**: the RIL's family (``family`` in SoyNAM's records). The families carry
  family-specific blocks of missing calls (markers monomorphic in a family are missing in
  nearly all its lines), so a tree model can read the family from the pattern of imputed
  values, while mean imputation removes that information from a linear model's relationships.

    python docs/scripts/structure_baselines.py [../shared/data]
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from gpbench.data.datasource import read_r

LEADERBOARD = Path(__file__).resolve().parents[2] / "leaderboard" / "collection"
FEMALE_X_HET = 0.2  # fixed, not fitted: males' X calls are homozygous up to genotyping error


def called_female(x_calls: np.ndarray) -> np.ndarray:
    """Sex call per animal (row) from its chromosome-X dosages: True = female."""
    return (x_calls == 1).mean(axis=1) > FEMALE_X_HET


def _folds(dataset: str) -> pd.Series:
    path = next((LEADERBOARD / dataset / "folds").glob("*-k5-seed0-rep1.csv"))
    return pd.read_csv(path, index_col="sample", dtype={"sample": str})["repeat0"]


def group_mean_r2(y: pd.Series, group: pd.Series, fold: pd.Series) -> list[float]:
    """Test R² per outer fold of predicting y by its group's training-row mean."""
    out = []
    for f in sorted(fold.unique()):
        test = (fold == f).reindex(y.index).fillna(False).to_numpy(bool)
        m = y.notna().to_numpy()
        tr, te = ~test & m, test & m
        means = y[tr].groupby(group[tr]).mean()
        pred = group[te].map(means).fillna(y[tr].mean())
        out.append(1 - float(((y[te] - pred) ** 2).sum() / ((y[te] - y[te].mean()) ** 2).sum()))
    return out


def mice(data: Path) -> None:
    objs = read_r(data / "mice" / "mice.RData")
    X, pheno, cmap = objs["mice.X"], objs["mice.pheno"], objs["mice.map"]
    ids = [str(i) for i in X.coords[X.dims[0]].values]
    chrx = (cmap["chr"].astype(str) == "X").to_numpy()
    female = called_female(np.asarray(X.values)[:, chrx])
    called = pd.Series(np.where(female, "F", "M"), index=ids)
    pheno = pheno.set_index(pheno["SUBJECT.NAME"].astype(str)).loc[ids]
    agree = float((called.to_numpy() == pheno["GENDER"].astype(str).to_numpy()).mean())
    print(f"mice: {chrx.sum()} X markers; sex called from X heterozygosity agrees with GENDER "
          f"for {agree:.1%} of {len(ids)} animals")
    fold = _folds("mice")
    for trait in ("Obesity.EndNormalBW", "Obesity.BMI", "Obesity.BodyLength"):
        r2 = group_mean_r2(pheno[trait].astype(float), called, fold)
        print(f"  {trait:22s} sex-mean baseline R² {np.mean(r2):.3f} ± {np.std(r2, ddof=1):.3f}")


def soynam(data: Path) -> None:
    objs = read_r(data / "soynam" / "soybase.RData")
    geno, rec = objs["gen.qa"], objs["data.line.qa"]
    ids = [str(i) for i in geno.coords[geno.dims[0]].values]
    fold = _folds("soynam")
    rec = rec[rec["strain"].astype(str).isin(fold.index)]
    family = rec.groupby("strain")["family"].first()
    means = rec.groupby("strain")[["yield", "height", "R8"]].mean()
    miss = pd.DataFrame(np.isnan(np.asarray(geno.values, dtype=np.float32)), index=ids)
    per_family = miss.loc[family.index].groupby(family.to_numpy()).mean()
    blocks = (per_family > 0.95).sum(axis=1)
    print(f"soynam: {len(family)} RILs of {family.nunique()} families; markers missing in >95% "
          f"of a family's lines: {blocks.min()}-{blocks.max()} per family (median "
          f"{int(blocks.median())})")
    for trait in ("yield", "height", "R8"):
        r2 = group_mean_r2(means[trait], family, fold)
        print(f"  {trait:22s} family-mean baseline R² {np.mean(r2):.3f} ± {np.std(r2, ddof=1):.3f}")


if __name__ == "__main__":
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
    mice(data)
    soynam(data)
