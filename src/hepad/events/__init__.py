"""Events, shared by every study: generation with Pythia 8 (generate, pythia, process, settings,
dark_showers, single_jets), the parametrised detector (detector, checks), jets and their substructure
(jets, nsubjettiness, substructure, efps, jet_images), detector images (images), and the file formats
(formats: the LHCO R&D layout; merge, lhco_particles, mimicker_io, stable_hdf5). docs/data.md describes
the data sets and how the generated ones compare with the published samples.
"""
