"""The significance tables of the bump hunt (docs/search.md): one row per method, injection and seed for
the HTML report (CSV), and a HEPData submission of the same numbers with hepdata-lib.

HEPData tables (one YAML each, plus submission.yaml, validated by hepdata-validator):

- per method, "Significance against injection": independent the injected signal events and the seed;
  dependent S/B in the window holding most signal [%], the maximum local Z, and the global Z from the
  count toys and from the background-only reruns ('-' where too few of them reach the observed maximum);
- per method and injection (first seed), "Local significance per window": independent the mjj window [TeV]
  and the background efficiency; dependent N, b and the local Z ('-' where a threshold has no estimate).
"""

from __future__ import annotations

import csv
import os
import tarfile
import tempfile
from pathlib import Path

from hepad.io import atomic_output

__all__ = ["summary_rows", "write_csv", "write_hepdata", "CSV_COLUMNS"]

CSV_COLUMNS = ["method", "classifier", "nsig", "seed", "signal window [TeV]", "S", "S/B [%]", "delta_sys",
               "max local Z", "at window [TeV]", "at efficiency", "global Z (count toys)",
               "global Z (background-only reruns)"]


def _global_text(glob: dict | None) -> str:
    if glob is None:
        return "no reruns"
    if glob["z"] is None:
        return f"> {glob['resolvable_z']:.2f} (too few: {glob['n_toys']})"
    return f"{glob['z']:.2f} (p = {glob['p_value']:.3g}, {glob['n_toys']})"


def _sorted(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: (r["technique"], -r["nsig"], r["seed"]))


def summary_rows(records: list[dict]) -> list[dict]:
    """One row per significance record (the JSON of search_significance), columns of CSV_COLUMNS."""
    rows = []
    for rec in _sorted(records):
        inj, best = rec["injected"], rec["max_local"]
        rows.append({
            "method": rec["technique"], "classifier": "+".join(rec.get("classifier", [])), "nsig": rec["nsig"],
            "seed": rec["seed"], "signal window [TeV]": "{:.2f}-{:.2f}".format(*inj["window"]), "S": inj["signal"],
            "S/B [%]": f"{100 * inj['s_over_b']:.2f}", "delta_sys": f"{rec['delta_sys']:.3g}",
            "max local Z": f"{best['z']:.2f}", "at window [TeV]": "{:.2f}-{:.2f}".format(*best["window"]),
            "at efficiency": f"{best['efficiency']:g}", "global Z (count toys)": _global_text(rec["global"]),
            "global Z (background-only reruns)": _global_text(rec.get("global_reruns")),
        })
    return rows


def write_csv(records: list[dict], path) -> None:
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(summary_rows(records))


def _value(x):
    return "-" if x is None else x


def _tables(records: list[dict]):
    from hepdata_lib import Table, Variable

    def variable(name, values, independent=False, units="", binned=False):
        v = Variable(name, is_independent=independent, is_binned=binned, units=units)
        v.values = values
        return v

    by_method: dict[str, list[dict]] = {}
    for rec in _sorted(records):
        by_method.setdefault(rec["technique"], []).append(rec)
    for method, recs in by_method.items():
        table = Table(f"Significance against injection, {method}")
        table.description = (f"Sliding-window bump hunt with {method} (docs/search.md of hepad): per injected signal "
                             "count and seed, the maximum local significance over all windows and thresholds and "
                             "the global significance ('-': too few pseudo-experiments reach the observed maximum).")
        table.keywords["observables"] = ["SIG"]
        for v in (variable("injected signal events", [r["nsig"] for r in recs], True),
                  variable("seed", [r["seed"] for r in recs], True),
                  variable("S/B in the signal window", [100 * r["injected"]["s_over_b"] for r in recs], units="%"),
                  variable("max local Z", [r["max_local"]["z"] for r in recs]),
                  variable("global Z, count toys", [_value(r["global"]["z"]) for r in recs]),
                  variable("global Z, background-only reruns",
                           [_value(r["global_reruns"]["z"]) if "global_reruns" in r else "-" for r in recs])):
            table.add_variable(v)
        yield table
        first_seed = min(r["seed"] for r in recs)
        for rec in (r for r in recs if r["seed"] == first_seed):
            entries = [(w, row) for w in rec["windows"] for row in w["thresholds"]]
            table = Table(f"Local significance per window, {method}, nsig {rec['nsig']}, seed {rec['seed']}")
            table.description = (f"Cut and count with {method} per mjj window and background efficiency, "
                                 f"{rec['nsig']} injected signal events, seed {rec['seed']}, δ_sys = "
                                 f"{rec['delta_sys']:.3g}: observed N, expected background b with its statistical "
                                 "error, local Z ('-': no estimate at that threshold).")
            table.keywords["observables"] = ["SIG", "N"]
            for v in (variable("$m_{jj}$ window", [(w["low"], w["high"]) for w, _ in entries], True, "TeV", True),
                      variable("background efficiency", [row["efficiency"] for _, row in entries], True),
                      variable("observed events N", [_value(row.get("n_observed")) for _, row in entries]),
                      variable("expected background b", [_value(row["b"]) for _, row in entries]),
                      variable("statistical error of b",
                               [_value(row.get("b_error") if row["b"] is not None else None) for _, row in entries]),
                      variable("local Z", [_value(row.get("z")) for _, row in entries])):
                table.add_variable(v)
            yield table


def write_hepdata(records: list[dict], path) -> None:
    """The HEPData submission (submission.yaml and one YAML per table) as the tar.gz archive HEPData takes,
    validated by hepdata-validator while it is written (hepdata-lib's Submission.create_files)."""
    from hepdata_lib import Submission

    submission = Submission()
    submission.comment = ("Sliding-window weakly supervised bump hunt (hepad, docs/search.md): local and global "
                          "significances per method, injection and seed.")
    for table in _tables(records):
        submission.add_table(table)
    path = Path(path).resolve()
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(dir=path.parent) as work:
        os.chdir(work)  # hepdata-lib writes submission.tar.gz into the working directory
        try:
            submission.create_files("submission", validate=True)
        finally:
            os.chdir(cwd)
        with tarfile.open(Path(work) / "submission.tar.gz") as check:
            if "submission.yaml" not in check.getnames():
                raise RuntimeError("hepdata-lib wrote no submission.yaml")
        with atomic_output(path) as tmp:
            os.replace(Path(work) / "submission.tar.gz", tmp)
