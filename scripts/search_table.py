#!/usr/bin/env python
"""The significance tables of the bump hunt (docs/search.md): one row per method, injection and seed (CSV,
shown in the HTML report) and the same numbers with the local significance per window and threshold as a
HEPData submission (hepdata-lib, validated by hepdata-validator). Reads the JSONs of search_significance.
"""

import argparse
import json

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import run_main, setup_logging
from hepad.search.tables import write_csv, write_hepdata


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--significance", nargs="+", required=True, help="JSONs of search_significance")
    p.add_argument("--table", required=True, help="CSV")
    p.add_argument("--hepdata", required=True, help="HEPData submission (.tar.gz)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_table")
    records = []
    for path in args.significance:
        with open(path) as f:
            records.append(json.load(f))
    write_csv(records, args.table)
    write_hepdata(records, args.hepdata)
    log.info("%d records: %s, %s", len(records), args.table, args.hepdata)


if __name__ == "__main__":
    run_main(main)
