"""Convergence plots for the lecture companion: `invoke plots` writes them all to `plots/gallery/`.

Modules: `datasets` (the shipped real data set and small synthetic ones), `paths` (the three
implementations by name), `experiments` (training runs that record cost histories), `figures` (one
function per figure, each returning a matplotlib Figure), `gallery` (makes and saves them all),
`train_cli` (the body of `invoke train`). Figures are drawn headless with the Agg backend.
"""
