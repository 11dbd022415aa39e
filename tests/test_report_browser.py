"""The HTML report of every plot target in the README's table, on the tiny config, opened in a real browser.

Runs the README's targets with generated events (the default data source), makes the report with the
README's command, and renders it in headless Chromium (Debian's `chromium`; CI installs it): the page
must show no reStructuredText "System Message" (a caption or the front page that failed to render), and
every plot flagged for the report must be embedded. A screenshot is kept beside the report.
"""

import json
import os
import re
import shutil
import subprocess

import pytest
from conftest import README_TARGETS, tiny_snakemake

pytestmark = pytest.mark.workflow

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser():
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI installs it: apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot is not installed (results/dag.pdf needs it)")
    return path


def test_report_of_every_readme_target_renders_in_a_browser(readme_run, tmp_path):
    chromium = _browser()
    report = tmp_path / "report.html"
    made = tiny_snakemake(readme_run, *README_TARGETS, "--report", str(report))
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    assert "Error loading caption" not in made.stdout + made.stderr

    html = report.read_text(errors="replace")
    results = json.loads(re.search(r"var results = (\{.*?\});\n", html).group(1))
    # Every flagged plot is embedded, with its caption; the top-level copies are shown through the
    # study's own plot they were copied from.
    names = {entry["name"] for entry in results.values()}
    for stem in ("data_overview", "sic_cathode_hgb_nsig300", "sic_comparison_hgb_nsig300", "sb_scan_hgb", "roc_quak",
                 "quak_space", "quak_digits", "codae_roc", "mimic_ado", "mimic_auc", "mimic_efps", "dag"):
        assert f"{stem}.pdf" in names, (stem, sorted(names))
    assert "codae_metrics.csv" in names and "run_config.yaml" in names
    assert "leaderboard.csv" in names and "leaderboard.pdf" in names
    for path, entry in results.items():
        assert entry["data_uri"].startswith("data:") and len(entry["data_uri"]) > 200, path
        assert entry["caption"].strip(), f"{path} has no caption"

    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                          "--virtual-time-budget=10000", "--dump-dom", report.as_uri()],
                         capture_output=True, text=True, timeout=300)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Anomaly detection in collider physics" in dom.stdout  # the front page was rendered
    assert "System Message" not in dom.stdout and "system-message" not in dom.stdout
    screenshot = tmp_path / "report.png"
    shot = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--virtual-time-budget=10000", "--window-size=1400,1000", f"--screenshot={screenshot}",
                           report.as_uri()], capture_output=True, text=True, timeout=300)
    assert shot.returncode == 0 and screenshot.stat().st_size > 10000, shot.stderr[-2000:]
