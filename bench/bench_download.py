"""Throughput of the Zenodo download path (stream + md5 on the fly + atomic rename) against the fake
Zenodo of the tests on 127.0.0.1, next to plain md5 speed: shows what the checks cost, not the network.

    python bench/bench_download.py [--mb 100]
"""

import argparse
import hashlib
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from hepad.download import download  # noqa: E402
from zenodo_server import FakeZenodo  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=100, help="file size in MB (default: %(default)s)")
    args = parser.parse_args()
    data = os.urandom(args.mb * 10**6)

    start = time.perf_counter()
    hashlib.md5(data).hexdigest()
    md5_rate = len(data) / (time.perf_counter() - start) / 1e6

    logging.basicConfig(level=logging.WARNING)
    with FakeZenodo() as zenodo, tempfile.TemporaryDirectory() as tmp:
        zenodo.add_file(1, "big.h5", data)
        start = time.perf_counter()
        download("big.h5", 1, Path(tmp) / "big.h5", base_url=zenodo.url, retries=1)
        seconds = time.perf_counter() - start
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"md5 alone:              {md5_rate:8.0f} MB/s")
    print(f"download {args.mb} MB local: {len(data) / seconds / 1e6:8.0f} MB/s ({seconds:.2f} s, md5 and size verified)")


if __name__ == "__main__":
    main()
