"""Scale: many organisations and quarters at once (``scorecard batch``), one Dask task per pair.

May import every stage below it (audit, publish, build and lower); only the CLI imports it.
"""
