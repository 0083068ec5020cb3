"""Training runs on data, for the figures and for `invoke train`.

Modules: `datasets` (the shipped real data set and small synthetic ones), `csv_data` (a
student's own CSV file), `runs` (train_run: one training run through any path, recording its
cost history), `simulated` (the same in numba's CUDA simulator, in a fresh process), `batch_size`
(the slides' batch-size claims tested: gallery figure 1's study), `feature_engineering` (the
slide on traditional ML against deep learning, on the two rings), `cli` (the body of
`invoke train`; its plots go to `plots/runs/`).
"""
