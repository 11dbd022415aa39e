#!/usr/bin/env python
r"""Download one file: of a Zenodo record (--record), verified against the md5 published by the record's
API, or at <base-url>/<name> (--sha256), verified against the given sha256 (files outside Zenodo).

Examples:
    python scripts/download.py --name events_anomalydetection_v2.features.h5 --record 4536377 \
        --output resources/lhco/events_anomalydetection_v2.features.h5
    python scripts/download.py --name mnist.npz --base-url https://storage.googleapis.com/tensorflow/tf-keras-datasets \
        --sha256 731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1 --output resources/mnist/mnist.npz
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.download import OFFLINE_HINT, download, download_url
from hepad.io import run_main, setup_logging
from hepad.zenodo import URL_FILES


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True, help="file name (in the record, or at the end of the URL)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--record", help="Zenodo record id")
    source.add_argument("--sha256", help="expected sha256 of <base-url>/<name> (a file outside Zenodo)")
    parser.add_argument("--output", required=True, help="destination; written only once verified")
    parser.add_argument("--base-url", default="https://zenodo.org",
                        help="Zenodo server, or where the file is with --sha256 (default: %(default)s)")
    parser.add_argument("--retries", type=int, default=4, help="attempts on transient errors (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds before a stalled connection counts as transient (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("download")
    if args.record:
        download(args.name, args.record, args.output, base_url=args.base_url, retries=args.retries,
                 timeout=args.timeout, log=log)
        return
    known = URL_FILES.get(args.name)
    download_url(args.name, args.sha256, args.output, base_url=args.base_url, retries=args.retries,
                 timeout=args.timeout, log=log, offline_hint=known.offline if known else OFFLINE_HINT)


if __name__ == "__main__":
    run_main(main)
