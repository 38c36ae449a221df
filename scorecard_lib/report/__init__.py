"""Report: the quarter's outputs from its results (the HTML report, Word paper, PDF, open data,
manifest and record). May import present, rules, inputs and core; never the build or above.
"""
