"""The sliding-window bump hunt (docs/search.md): from an anomaly score to a local and a global significance.

Sits on top of the CATHODE study (it reuses its preparation, density estimator and classifiers); no other
study imports it. Modules: windows (the SR windows, the injection and each window's SR and sidebands),
kfold (the k-fold split of every window's events: each event is scored by a model that never trained on
it), significance (the cut-and-count local significance with a background uncertainty, p-values, the
global significance from background-only pseudo-experiments), fit (the dijet-function fit of the mjj
spectrum outside a window, with iminuit), plots (the bump-hunt and significance-against-injection figures).
"""
