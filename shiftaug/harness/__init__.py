"""The training harness: offline data, models, invariance metrics, training and reports."""
