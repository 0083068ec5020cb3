"""The figures: `invoke plots` writes them all to `plots/gallery/`.

Modules: `figures` (one function per figure, each running what it shows and returning a
matplotlib Figure), `gallery` (makes and saves them all), `style` (the shared look; figures are
drawn headless with the Agg backend). The training runs they draw, the data sets and `invoke
train` are in `train/`; the benchmark report's figures are drawn by `bench/report.py` into
`plots/bench/`.
"""
