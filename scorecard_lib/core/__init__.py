"""Core: the facts every stage shares (quarters, errors, paths, formatting, the section
registry, one file writer, one git helper). May import no other stage of the library.
"""
