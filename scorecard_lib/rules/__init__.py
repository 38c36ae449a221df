"""Rules: pure functions on data frames (RAG ratings, risk scores and bands, sentences, the
Cabinet paper's recommendations). May import inputs and core; no drawing, files or notebooks.
"""
