"""Build: run the section notebooks for a quarter (kernels, the papermill executor, the build
cache) and make the draft (``pipeline.build``). May import report and every stage below it.
"""
