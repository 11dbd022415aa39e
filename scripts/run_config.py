#!/usr/bin/env python
"""Write the complete configuration of a run (config files, --config values and schema defaults merged)
as YAML: results/run_config.yaml, shown in the HTML report and usable as --configfile to redo the run."""

import argparse
import json

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging
from hepad.ops import write_run_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--config", required=True, help="the configuration as one JSON object")
    parser.add_argument("--output", required=True, help="YAML file to write")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("run_config")
    try:
        config = json.loads(args.config)
    except json.JSONDecodeError as err:
        raise InputError(f"--config is not JSON: {err}") from None
    if not isinstance(config, dict):
        raise InputError(f"--config must be a JSON object, got {type(config).__name__}")
    write_run_config(config, args.output)
    log.info("wrote %s (%d top-level keys)", args.output, len(config))


if __name__ == "__main__":
    run_main(main)
