"""Present: what a notebook cell shows (the facade ``load_scorecard`` returns, accessible charts
and tables, each made at its final heading level). May import rules, inputs and core.
"""
