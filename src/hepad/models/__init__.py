"""Estimators shared by the studies: base (the estimator base, devices, threads, the best-epoch ensemble,
model files, the array check), training (the one epoch loop every torch model trains with), flows (the
conditional MAF of CATHODE, ANODE and the QUAK flow priors), classifiers (the MLP and the boosted-tree
ensemble of the weakly supervised methods).
"""
