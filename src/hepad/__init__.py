"""hepad: the library behind the anomaly-detection Snakemake workflow, laid out by study.

Studies: ``cathode`` (CATHODE and its benchmarks), ``quak``, ``codae``, ``mimic``. Shared layers below
them, each used by two studies or more: ``events`` (generation, detector, jets, substructure, images,
file formats), ``models`` (the estimator base, the training loop, flows, classifiers), ``metrics`` (SIC,
AUC, ADO), ``plots`` (the common style), and the modules ``io``, ``config``, ``download``, ``zenodo``,
``ops``. A study imports the shared layers, never another study; the shared layers import no study.
The method reference is docs/ in the repository.
"""

__version__ = "0.1.0"
