"""Zenodo downloads against a fake Zenodo on 127.0.0.1: md5 and size checks, retries, resume, no network.

Through the library, the script and the real Snakemake rule.
"""

import hashlib
import json
import logging
import subprocess
import sys

import pytest
import yaml

import hepad.download as dl
from hepad.download import DownloadError, download, parse_record
from hepad.events.formats import LHCO_COLUMNS, read_lhco_features
import hepad.zenodo as dl_files
from hepad.zenodo import LHCO_FEATURES, ZENODO_FILES, resource_path
from lhco_toy import write_toy_lhco
from zenodo_server import FakeZenodo, closed_port_url

RECORD = ZENODO_FILES[LHCO_FEATURES][0]


@pytest.fixture(scope="module")
def lhco_bytes(tmp_path_factory):
    """A few hundred events in the exact LHCO layout (pandas fixed format, key df, sorted by label)."""
    path = tmp_path_factory.mktemp("toy") / "toy.h5"
    write_toy_lhco(path, n_bkg=300, n_sig=40, seed=3)
    return path.read_bytes()


@pytest.fixture
def zenodo():
    with FakeZenodo() as server:
        yield server


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def leftovers(folder):
    """Everything in ``folder`` (partial files included)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def fetch(zenodo, out, **kwargs):
    kwargs = {"base_url": zenodo.url, "retries": 3, "timeout": 5, "backoff_s": 0.01, **kwargs}
    return download(LHCO_FEATURES, RECORD, out, **kwargs)


# -- library -----------------------------------------------------------------------------------------


def test_good_file_is_downloaded_and_verified(zenodo, lhco_bytes, tmp_path):
    zenodo.add_file(RECORD, LHCO_FEATURES, lhco_bytes)
    out = tmp_path / "lhco" / LHCO_FEATURES
    entry = fetch(zenodo, out)
    assert out.read_bytes() == lhco_bytes
    assert md5(out.read_bytes()) == entry.md5 == md5(lhco_bytes)
    assert leftovers(out.parent) == [LHCO_FEATURES]
    frame = read_lhco_features(out)
    assert list(frame.columns) == LHCO_COLUMNS and len(frame) == 340
    # the record's own link was used (it is on the configured server)
    assert zenodo.log[-1][0].endswith(f"/api/records/{RECORD}/files/{LHCO_FEATURES}/content")


def test_wrong_md5_is_rejected_and_deleted(zenodo, lhco_bytes, tmp_path):
    wrong = "0123456789abcdef0123456789abcdef"
    zenodo.add_file(RECORD, LHCO_FEATURES, lhco_bytes, md5=wrong)
    out = tmp_path / "lhco" / LHCO_FEATURES
    with pytest.raises(DownloadError) as err:
        fetch(zenodo, out)
    message = str(err.value)
    assert f"expected md5 {wrong}" in message and f"actual md5 {md5(lhco_bytes)}" in message
    assert "\n" not in message
    assert leftovers(out.parent) == []


def test_unreachable_server_gives_one_line_offline_error(tmp_path):
    base = closed_port_url()
    with pytest.raises(DownloadError) as err:
        download(LHCO_FEATURES, RECORD, tmp_path / "f.h5", base_url=base, retries=4, timeout=5, backoff_s=5)
    message = str(err.value)
    assert message.startswith(f"no network access to {base}")
    assert "dataset: generated" in message and "\n" not in message
    assert leftovers(tmp_path) == []


def test_unresolvable_host_gives_offline_error(tmp_path, monkeypatch):
    # No real DNS in tests: make every name lookup fail as it does on a machine without network.
    import socket

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(DownloadError, match=r"^no network access to https://zenodo\.org .*dataset: generated"):
        download(LHCO_FEATURES, RECORD, tmp_path / "f.h5", retries=4, backoff_s=5)


@pytest.mark.parametrize("status", [503, 429])
def test_transient_error_is_retried(zenodo, lhco_bytes, tmp_path, caplog, status):
    served = zenodo.add_file(RECORD, LHCO_FEATURES, lhco_bytes, fail_first=1, fail_status=status)
    zenodo.record_failures = 1
    out = tmp_path / LHCO_FEATURES
    with caplog.at_level(logging.WARNING):
        fetch(zenodo, out)
    assert out.read_bytes() == lhco_bytes
    assert served.requests == 2
    messages = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(messages) == 2 and "HTTP 503" in messages[0] and f"HTTP {status}" in messages[1]


def test_persistent_503_fails_after_the_configured_attempts(zenodo, lhco_bytes, tmp_path):
    served = zenodo.add_file(RECORD, LHCO_FEATURES, lhco_bytes, fail_first=100)
    with pytest.raises(DownloadError, match="failed after 3 attempts: HTTP 503"):
        fetch(zenodo, tmp_path / LHCO_FEATURES, retries=3)
    assert served.requests == 3
    assert leftovers(tmp_path) == []


def test_truncated_file_is_rejected_and_deleted(zenodo, lhco_bytes, tmp_path):
    # The server delivers a complete-looking but shorter file than the record announces.
    zenodo.add_file(RECORD, LHCO_FEATURES, lhco_bytes, body=lhco_bytes[:1000])
    with pytest.raises(DownloadError) as err:
        fetch(zenodo, tmp_path / LHCO_FEATURES)
    message = str(err.value)
    assert f"1000 bytes instead of {len(lhco_bytes)}" in message
    assert f"expected md5 {md5(lhco_bytes)}" in message and f"actual md5 {md5(lhco_bytes[:1000])}" in message
    assert leftovers(tmp_path) == []


def test_connection_cut_every_time_fails_and_leaves_nothing(zenodo, lhco_bytes, tmp_path):
    served = zenodo.add_file(RECORD, LHCO_FEATURES, lhco_bytes, cut_after=1000)
    with pytest.raises(DownloadError, match=f"connection closed after 0 of {len(lhco_bytes) - 1000} bytes"):
        fetch(zenodo, tmp_path / LHCO_FEATURES, retries=3)
    assert served.requests == 3
    assert leftovers(tmp_path) == []


def test_connection_cut_once_resumes_with_a_range_request(zenodo, lhco_bytes, tmp_path):
    zenodo.add_file(RECORD, LHCO_FEATURES, lhco_bytes, cut_after=1000, cut_times=1)
    out = tmp_path / LHCO_FEATURES
    fetch(zenodo, out)
    assert out.read_bytes() == lhco_bytes
    ranges = [h.get("Range") for h in zenodo.file_requests(LHCO_FEATURES)]
    assert ranges == [None, "bytes=1000-"]


def test_file_not_in_record_lists_the_record_files(zenodo, lhco_bytes, tmp_path):
    zenodo.add_file(RECORD, "other.h5", b"x")
    zenodo.add_file(RECORD, "more.h5", b"y")
    with pytest.raises(DownloadError, match=f"record {RECORD} .* has no file '{LHCO_FEATURES}'; its files: more.h5, other.h5$"):
        fetch(zenodo, tmp_path / LHCO_FEATURES)


def test_unknown_record_is_named(zenodo, tmp_path):
    with pytest.raises(DownloadError, match=r"Zenodo record 999 not found at .*/api/records/999 \(HTTP 404\)"):
        download("x.h5", 999, tmp_path / "x.h5", base_url=zenodo.url, retries=2, backoff_s=0.01)


def test_progress_is_logged_in_steps(zenodo, lhco_bytes, tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(dl, "CHUNK", len(lhco_bytes) // 40 + 1)
    zenodo.add_file(RECORD, LHCO_FEATURES, lhco_bytes)
    with caplog.at_level(logging.INFO):
        fetch(zenodo, tmp_path / LHCO_FEATURES)
    lines = [r.getMessage() for r in caplog.records if "MB/s" in r.getMessage()]
    # one line per 5 % (20), plus the closing line at 100 %
    assert 19 <= len(lines) <= 22, lines
    assert "(100 %)" in lines[-1]


def test_record_links_elsewhere_fall_back_to_the_configured_server():
    record = {"files": [
        {"key": "a.h5", "size": 3, "checksum": "md5:" + "a" * 32,
         "links": {"self": "https://zenodo.org/api/records/7/files/a.h5/content"}},
        {"key": "b.h5", "size": 3, "checksum": "MD5:" + "B" * 32,
         "links": {"self": "http://mirror:8000/api/records/7/files/b.h5/content"}},
        {"key": "c.h5", "size": 3, "checksum": "sha256:" + "c" * 64},
    ]}
    files = parse_record(record, 7, "http://mirror:8000")
    assert files["a.h5"].url == "http://mirror:8000/records/7/files/a.h5?download=1"
    assert files["b.h5"].url == "http://mirror:8000/api/records/7/files/b.h5/content"
    assert files["b.h5"].md5 == "b" * 32
    assert files["c.h5"].md5 == ""  # no md5: download() refuses to fetch what it cannot verify
    with pytest.raises(DownloadError, match="no 'files' list"):
        parse_record({"hits": []}, 7, "http://mirror:8000")


def test_public_file_address_is_served_too(zenodo, lhco_bytes, tmp_path, monkeypatch):
    # A record without links: the file comes from <base>/records/<id>/files/<name>?download=1.
    zenodo.add_file(RECORD, LHCO_FEATURES, lhco_bytes)
    original = zenodo.record_json
    monkeypatch.setattr(zenodo, "record_json", lambda rid: {
        "files": [{k: v for k, v in f.items() if k != "links"} for f in original(rid)["files"]]})
    out = tmp_path / LHCO_FEATURES
    fetch(zenodo, out)
    assert out.read_bytes() == lhco_bytes
    assert zenodo.log[-1][0] == f"/records/{RECORD}/files/{LHCO_FEATURES}"


# -- script ------------------------------------------------------------------------------------------


def run_script(repo_root, *args):
    return subprocess.run([sys.executable, str(repo_root / "scripts" / "download.py"), *args],
                          capture_output=True, text=True, timeout=60)


def test_script_help(repo_root):
    result = run_script(repo_root, "--help")
    assert result.returncode == 0 and "--base-url" in result.stdout


def test_script_offline_error_is_one_line(repo_root, tmp_path):
    base = closed_port_url()
    result = run_script(repo_root, "--name", LHCO_FEATURES, "--record", str(RECORD), "--base-url", base,
                        "--output", str(tmp_path / "f.h5"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: no network access to {base} (Connection refused); to run without network set "
        "`dataset: generated` (events generated locally, e.g. `--config dataset=generated`)"
    ]


# -- the Snakemake rule ------------------------------------------------------------------------------


def snakemake(repo_root, workdir, server_url, *targets, retries=2, timeout=5):
    config = workdir / "download.yaml"
    config.write_text(yaml.safe_dump(
        {"dataset": "lhco", "zenodo": {"base_url": server_url, "retries": retries, "timeout_s": timeout}}))
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(workdir),
         "--configfile", str(config), "--cores", "1", *targets],
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.workflow
def test_rule_downloads_and_verifies(repo_root, zenodo, lhco_bytes, tmp_path):
    extra = "events_anomalydetection_qcd_extra_inneronly_features.h5"
    zenodo.add_file(RECORD, LHCO_FEATURES, lhco_bytes)
    zenodo.add_file(ZENODO_FILES[extra][0], extra, lhco_bytes[::-1])
    result = snakemake(repo_root, tmp_path, zenodo.url, "download_lhco")
    assert result.returncode == 0, result.stdout + result.stderr
    assert md5((tmp_path / resource_path(LHCO_FEATURES)).read_bytes()) == md5(lhco_bytes)
    assert (tmp_path / resource_path(extra)).read_bytes() == lhco_bytes[::-1]
    log = (tmp_path / "results/logs/download" / f"{resource_path(LHCO_FEATURES)[len('resources/'):]}.log").read_text()
    assert f"md5 {md5(lhco_bytes)} verified" in log
    # Another server, timeout or retry count does not change the files: nothing is downloaded again.
    again = snakemake(repo_root, tmp_path, "https://mirror.example.org", "-n", "download_lhco", retries=7, timeout=99)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, again.stdout + again.stderr


@pytest.mark.workflow
def test_rule_rejects_bad_md5_and_leaves_nothing(repo_root, zenodo, lhco_bytes, tmp_path):
    zenodo.add_file(RECORD, LHCO_FEATURES, lhco_bytes, md5="f" * 32)
    target = resource_path(LHCO_FEATURES)
    result = snakemake(repo_root, tmp_path, zenodo.url, target)
    assert result.returncode != 0
    assert leftovers(tmp_path / "resources" / "lhco") == []
    log = (tmp_path / "results/logs/download/lhco" / f"{LHCO_FEATURES}.log").read_text()
    assert log.strip().splitlines()[-1] == (
        f"error: {LHCO_FEATURES}: md5 mismatch, expected md5 {'f' * 32}, actual md5 {md5(lhco_bytes)} "
        f"({len(lhco_bytes)} bytes, record says {len(lhco_bytes)}); the file was deleted"
    )


@pytest.mark.workflow
def test_rule_accepts_only_known_files(repo_root, tmp_path):
    unknown = snakemake(repo_root, tmp_path, "http://127.0.0.1:9", "-n", "resources/lhco/unknown.h5")
    wrong_folder = snakemake(repo_root, tmp_path, "http://127.0.0.1:9", "-n", "resources/mimickers/" + LHCO_FEATURES)
    for result in (unknown, wrong_folder):
        assert result.returncode != 0 and "MissingRuleException" in result.stdout + result.stderr


def test_file_url_mirror(lhco_bytes, tmp_path):
    # base_url may be a local directory laid out like Zenodo (schema allows file://).
    mirror = tmp_path / "mirror"
    (mirror / "api" / "records").mkdir(parents=True)
    (mirror / "records" / str(RECORD) / "files").mkdir(parents=True)
    (mirror / "records" / str(RECORD) / "files" / LHCO_FEATURES).write_bytes(lhco_bytes)
    record = {"files": [{"key": LHCO_FEATURES, "size": len(lhco_bytes), "checksum": "md5:" + md5(lhco_bytes)}]}
    (mirror / "api" / "records" / str(RECORD)).write_text(json.dumps(record))
    out = tmp_path / "out" / LHCO_FEATURES
    download(LHCO_FEATURES, RECORD, out, base_url=mirror.as_uri(), retries=2, backoff_s=0.01)
    assert out.read_bytes() == lhco_bytes
    with pytest.raises(DownloadError, match=r"^no such file: .*/api/records/12345$"):
        download("x.h5", 12345, tmp_path / "x.h5", base_url=mirror.as_uri(), retries=2, backoff_s=0.01)


# -- files at a plain URL, verified by a pinned sha256 (MNIST) -----------------------------------------

MNIST = "mnist.npz"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_url(zenodo, out, data, **kwargs):
    kwargs = {"base_url": f"{zenodo.url}/tf", "retries": 3, "timeout": 5, "backoff_s": 0.01, **kwargs}
    return dl.download_url(MNIST, kwargs.pop("sha", sha256(data)), out, **kwargs)


def test_url_file_is_downloaded_and_verified(zenodo, lhco_bytes, tmp_path, caplog):
    zenodo.add_url_file(f"tf/{MNIST}", lhco_bytes)
    out = tmp_path / "mnist" / MNIST
    with caplog.at_level(logging.INFO):
        entry = fetch_url(zenodo, out, lhco_bytes)
    assert out.read_bytes() == lhco_bytes and entry.url == f"{zenodo.url}/tf/{MNIST}"
    assert leftovers(out.parent) == [MNIST]
    assert f"sha256 {sha256(lhco_bytes)} verified" in caplog.text
    assert "100 %" in caplog.text  # the server's Content-Length stands in for a record's size


def test_url_file_with_wrong_sha256_is_deleted(zenodo, lhco_bytes, tmp_path):
    zenodo.add_url_file(f"tf/{MNIST}", lhco_bytes)
    out = tmp_path / "mnist" / MNIST
    pinned = "ab" * 32
    with pytest.raises(DownloadError) as err:
        fetch_url(zenodo, out, lhco_bytes, sha=pinned)
    assert str(err.value) == (f"{MNIST}: sha256 mismatch, expected sha256 {pinned}, actual sha256 "
                              f"{sha256(lhco_bytes)} ({len(lhco_bytes)} bytes); the file was deleted")
    assert leftovers(out.parent) == []


def test_url_file_cut_once_resumes_and_503_is_retried(zenodo, lhco_bytes, tmp_path):
    zenodo.add_url_file(f"tf/{MNIST}", lhco_bytes, fail_first=1, cut_after=1000, cut_times=2)
    out = tmp_path / MNIST
    fetch_url(zenodo, out, lhco_bytes)
    assert out.read_bytes() == lhco_bytes
    assert any(h.get("Range") == "bytes=1000-" for p, h in zenodo.log if p.endswith(MNIST))


def test_url_file_missing_and_bad_checksum_and_offline_are_one_line(zenodo, lhco_bytes, tmp_path):
    with pytest.raises(DownloadError, match=rf"HTTP 404; no {MNIST} under .*/tf; is the base URL right\?$"):
        fetch_url(zenodo, tmp_path / MNIST, lhco_bytes)
    with pytest.raises(DownloadError, match="is not a sha256"):
        fetch_url(zenodo, tmp_path / MNIST, lhco_bytes, sha="md5:abc")
    base = closed_port_url()
    hint = dl_files.URL_FILES[MNIST].offline
    with pytest.raises(DownloadError) as err:
        dl.download_url(MNIST, sha256(b""), tmp_path / MNIST, base_url=base, retries=2, backoff_s=0.01,
                        offline_hint=hint)
    assert str(err.value) == f"no network access to {base} (Connection refused); {hint}"
    assert "quak.digits.source: digits" in hint
    assert leftovers(tmp_path) == []


def test_script_fetches_a_url_file_and_names_the_offline_alternative(repo_root, zenodo, lhco_bytes, tmp_path):
    zenodo.add_url_file(f"tf/{MNIST}", lhco_bytes)
    out = tmp_path / MNIST
    ok = run_script(repo_root, "--name", MNIST, "--sha256", sha256(lhco_bytes), "--base-url", f"{zenodo.url}/tf",
                    "--output", str(out))
    assert ok.returncode == 0, ok.stderr
    assert out.read_bytes() == lhco_bytes
    offline = run_script(repo_root, "--name", MNIST, "--sha256", sha256(lhco_bytes), "--base-url",
                         closed_port_url(), "--retries", "1", "--output", str(tmp_path / "x.npz"))
    assert offline.returncode == 1 and "quak.digits.source: digits" in offline.stderr.strip().splitlines()[-1]


@pytest.mark.workflow
def test_rule_fetches_mnist_from_the_configured_base_url_and_checks_the_pinned_sha256(repo_root, zenodo, tmp_path):
    # The served bytes are not the real MNIST, so the pinned sha256 rejects them: the rule went to the
    # configured server, checked, and left nothing behind.
    fake = b"not mnist" * 1000
    zenodo.add_url_file(f"tf/{MNIST}", fake)
    config = tmp_path / "mnist.yaml"
    config.write_text(yaml.safe_dump({"downloads": {"keras_base_url": f"{zenodo.url}/tf"},
                                      "zenodo": {"retries": 2, "timeout_s": 5}}))
    target = resource_path(MNIST)
    assert target == "resources/mnist/mnist.npz"
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(tmp_path),
         "--configfile", str(config), "--cores", "1", target], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert leftovers(tmp_path / "resources" / "mnist") == []
    log = (tmp_path / "results/logs/download_url/mnist" / f"{MNIST}.log").read_text()
    pinned = dl_files.URL_FILES[MNIST].sha256
    assert log.strip().splitlines()[-1] == (
        f"error: {MNIST}: sha256 mismatch, expected sha256 {pinned}, actual sha256 {sha256(fake)} "
        f"({len(fake)} bytes); the file was deleted")
    assert zenodo.plain[f"tf/{MNIST}"].requests == 1
