#!/usr/bin/env python
"""Draw the rule graph of the workflow's targets (default: its default target) with graphviz: every rule
needed from scratch with the given configuration, once, arrows from inputs to outputs."""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import run_main, setup_logging
from hepad.ops import render_dot, rule_graph


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--snakefile", required=True, help="the workflow's Snakefile")
    parser.add_argument("--configfile", required=True, help="configuration to plan with (results/run_config.yaml)")
    parser.add_argument("--target", nargs="*", default=[], help="targets to draw (default: the default target)")
    parser.add_argument("--output", required=True, help="drawing; the suffix gives the format (pdf, png, svg)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("dag")
    dot_source = rule_graph(args.snakefile, args.configfile, args.target)
    log.info("rule graph with %d rules", dot_source.count("label ="))
    render_dot(dot_source, args.output)
    log.info("wrote %s", args.output)


if __name__ == "__main__":
    run_main(main)
