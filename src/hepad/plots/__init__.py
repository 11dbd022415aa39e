"""The common plot style (style: mplhep, labels with units, colours per method, atomic saving without
varying metadata); each study draws its own figures in its package."""
