"""inputs: read, check and write a quarter's input files (catalogue, values, risks,
commentary, parameters), from CSV and YAML or the returns workbook; start a new quarter.

May import only ``scorecard_lib.core`` (enforced by import-linter, see ``.importlinter``).
"""
