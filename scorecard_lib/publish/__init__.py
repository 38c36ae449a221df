"""Publish: add a build to the archive of published records, never rewriting one, and write
the archive page. May import build and every stage below it; never the audit or above.
"""
