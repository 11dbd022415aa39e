"""CATHODE (arXiv:2109.00546) and its benchmarks ANODE, CWoLa Hunting, the idealized AD and the supervised
classifier: the weakly supervised resonant search of docs/cathode.md.

Modules: prepare (regions, injection, splits), prepared (the prepared-set file), modes (the training sets
of every mode, samples and score files), scaling (the flow's logit scaler), kde (the mjj sampler),
density (the conditional density of CATHODE and ANODE), classify (the standardised classifier),
plot_sic, plot_sb_scan, plot_data_overview (the study's figures).
"""
