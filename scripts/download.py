#!/usr/bin/env python
r"""Download one file of a Zenodo record, verified against the md5 published by the record's API.

Example:
    python scripts/download.py --name events_anomalydetection_v2.features.h5 --record 4536377 \
        --output resources/lhco/events_anomalydetection_v2.features.h5
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.download import download
from hepad.io import run_main, setup_logging


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True, help="file name in the record (files[].key)")
    parser.add_argument("--record", required=True, help="Zenodo record id")
    parser.add_argument("--output", required=True, help="destination; written only once verified")
    parser.add_argument("--base-url", default="https://zenodo.org", help="Zenodo server (default: %(default)s)")
    parser.add_argument("--retries", type=int, default=4, help="attempts on transient errors (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds before a stalled connection counts as transient (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("download")
    download(args.name, args.record, args.output, base_url=args.base_url, retries=args.retries,
             timeout=args.timeout, log=log)


if __name__ == "__main__":
    run_main(main)
