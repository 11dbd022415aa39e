"""Conditional dual auto-encoders (CoDAE, arXiv:2306.12955) on detector images, for triggering dark
showers (docs/codae.md).

Modules: data (splits, masks, score files, the metrics table), model (the CoDAE and its ONNX export),
baselines (the plain convolutional auto-encoder, the supervised CNN, the number of tracks), plots.
"""
