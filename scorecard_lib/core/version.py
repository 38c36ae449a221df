"""The package version: one home, read by the manifest, the workbook and `scorecard --version`."""

__version__ = "0.1.0"
