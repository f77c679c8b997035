"""Summarise the committed learning curves: one figure per dataset and trait, and a README.

    PYTHONPATH=benchmark:plugins python docs/scripts/learning_curves.py [leaderboard/curves]

Reads every run directory under the given folder that was run with ``--train-fraction`` and
writes ``plots/<dataset>_<trait>.png`` (accuracy against training size, per model) and
``README.md`` (per dataset: the command that made it and its learning-curve tables). Everything
is derived from the stored predictions; nothing is refit.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from gpbench.boards import plots
    from gpbench.boards.curves import curve_frame, curve_section
    from gpbench.boards.leaderboard import load_run
    from gpbench.boards.report import safe_name
    from gpbench.running.runconfig import run_command

    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else "leaderboard/curves")
    (root / "plots").mkdir(parents=True, exist_ok=True)
    md = ["# Learning curves: accuracy against training size", "",
          "Each unit was fitted on nested shares (0.1 ... 1.0) of its outer training fold and "
          "scored on the same test fold (`gpbench run --train-fraction`). Made by "
          "`docs/scripts/learning_curves.py` from the run directories here; each run's own "
          "leaderboard.md has the full-size board.", ""]
    for run_dir in sorted(p for p in root.iterdir() if (p / "run.json").exists()):
        run, records = load_run(run_dir)
        if not (run.get("run_config") or {}).get("train_fractions"):
            continue
        name = (run.get("dataset") or {}).get("name", run_dir.name)
        md += [f"## {name}", "", "```", run_command(run), "```", ""]
        section = curve_section(records)
        md += [line.replace("### ", "#### ") for line in section[4:]]  # tables, no intro
        ok = [r for r in records if r.get("status") == "ok"]
        for trait in sorted(curve_frame(ok)["trait"].unique()):
            fig = plots.training_size_curve(ok, trait)
            fig.suptitle(name, fontsize=9)
            file = f"{safe_name(name, trait)}.png"
            fig.savefig(root / "plots" / file, dpi=plots.DPI)
            plots.plt.close(fig)
            md += [f"![{name} {trait}](plots/{file})", ""]
    (root / "README.md").write_text("\n".join(md))
    print(f"wrote {root / 'README.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
