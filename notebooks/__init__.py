"""The lecture as notebooks: notebooks/NN_name.md are their sources (jupytext Markdown), and
`invoke notebooks` (notebooks/build.py) executes each and saves it, with its outputs, as
notebooks/NN_name.ipynb."""
