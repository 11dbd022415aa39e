"""Figures of merit shared by the studies: sic (ROC, AUC, SIC, FPR at a fixed TPR) and ado (the average
decision ordering of two scores, exact in O(n log n))."""
