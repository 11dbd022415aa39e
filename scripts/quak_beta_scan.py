#!/usr/bin/env python
"""The QUAK VAE beta scan in one table: for every beta (one quak_space metrics file each, --metrics
BETA=PATH), the AUC of the background prior alone on every signal sample (priors included: the background
prior never saw them), on all its events and inside its evaluation window (quak.signal_windows), beside the
paper's figures where it has them; then the hull AUC of every prior combination on every held-out signal
(all events, and inside the window when there is one). Writes a Markdown table (--table) and the numbers
(--json).
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging, write_json

# The paper's background-prior-alone AUC on the (4500, 500, 150) signal inside its window (QUASAR notebook,
# VAE with a 4-dimensional latent space), per beta.
PUBLISHED = {"wprime_4500_500_150": {0.1: 0.771, 0.5: 0.775, 1.0: 0.775, 2.0: 0.802, 10.0: 0.840}}


def beta_path(text):
    beta, sep, path = text.partition("=")
    try:
        return float(beta), path
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected BETA=PATH, got {text!r}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--metrics", type=beta_path, action="append", required=True,
                   help="BETA=PATH of a quak_space metrics JSON of the VAE with that beta (repeat)")
    p.add_argument("--table", required=True, help="Markdown table (.md)")
    p.add_argument("--json", required=True, help="the numbers (.json)")
    return p.parse_args(argv)


def fmt(value):
    return "–" if value is None else f"{value:.3f}"


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("quak_beta_scan")
    import json

    runs = {}
    for beta, path in args.metrics:
        try:
            with open(path) as handle:
                runs[beta] = json.load(handle)
        except (OSError, json.JSONDecodeError) as err:
            raise InputError(f"{path}: cannot read the quak_space metrics ({err}); rerun quak_space")
    betas = sorted(runs)
    first = runs[betas[0]]
    from hepad.quak.space import combinations

    meta = first.get("sample_meta", {})
    ordered = [*meta.get("priors", []), *first["signals"]]
    samples = [n for n in ordered if n in first.get("background_prior", {})]
    windows = first.get("signal_windows", {})
    rows, out = [], {"betas": betas, "signal_windows": windows, "published": PUBLISHED, "background_prior": {},
                     "hull_auc": {}}
    lines = ["# QUAK: VAE beta scan", "",
             "Background prior alone: AUC against the background test events, all events of each signal sample "
             "/ inside its window (quak.signal_windows); the paper's figure in brackets.", ""]
    header = "| β | " + " | ".join(samples) + " |"
    lines += [header, "|" + " --- |" * (len(samples) + 1)]
    for beta in betas:
        cells = []
        for sample in samples:
            res = runs[beta]["background_prior"][sample]
            out["background_prior"].setdefault(sample, {})[str(beta)] = res
            text = fmt(res["auc"])
            if "auc_in_window" in res:
                text += f" / {fmt(res['auc_in_window'])} in window ({res['n_signal_in_window']} events)"
            published = PUBLISHED.get(sample, {}).get(beta)
            if published is not None:
                text += f" [paper {published:.3f}]"
            cells.append(text)
        lines.append(f"| {beta:g} | " + " | ".join(cells) + " |")
    lines += ["", "Hull AUC of the prior combinations on the held-out signals (all events; in window):", ""]
    combos = [c for c in combinations(first["axes"][1:]) if c in first["combinations"]]
    lines += ["| β | signal | " + " | ".join(combos) + " |", "|" + " --- |" * (len(combos) + 2)]
    for beta in betas:
        for signal in runs[beta]["signals"]:
            for label, results in (("", runs[beta]["results"]), (" in window", runs[beta].get("results_in_window", {}))):
                if signal not in results:
                    continue
                aucs = {c: results[signal][c]["hull"]["auc"] for c in combos}
                out["hull_auc"].setdefault(signal + label.replace(" ", "_"), {})[str(beta)] = aucs
                lines.append(f"| {beta:g} | {signal}{label} | " + " | ".join(fmt(aucs[c]) for c in combos) + " |")
    text = "\n".join(lines) + "\n"
    with open(args.table, "w") as handle:
        handle.write(text)
    write_json(out, args.json)
    log.info("\n%s", text)


if __name__ == "__main__":
    run_main(main)
