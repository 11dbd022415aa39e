"""hepad: the library behind the anomaly-detection Snakemake workflow.

Sub-packages: ``events`` (generation, detector, jets, features, file formats), ``data`` (regions,
injection, splits, scaling), ``models`` (flows, classifiers), ``metrics`` (SIC, AUC), ``plots``.
"""

__version__ = "0.1.0"
