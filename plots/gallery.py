"""Make every figure and save it as a PNG in one folder: the body of `invoke plots`.

    invoke plots            (tasks.py calls main)

Everything runs on the CPU with the data shipped in the repository; the same seed gives the same
data, initial weights, mini-batches and so the same curves (only wall-clock times vary).
"""

import time
from pathlib import Path

from tqdm import tqdm

from kernels.paths import load_path
from plots import figures, graph_figure
from plots.style import save_figure
from reference import slide_examples
from train import batch_size, datasets
from train.runs import train_run
from train.simulated import run_in_simulator

GALLERY_DIR = Path(__file__).resolve().parent / "gallery"
NETWORK = [30, 16, 8, 1]  # the breast-cancer classifier: 30 features in, one probability out


def _breast_cancer(seed):
    return datasets.load_breast_cancer(seed=seed)


def figure_batch_sizes(seed):
    path, name = batch_size.training_path()
    split = batch_size.three_way_split(seed)
    choices = batch_size.study(seed, path=path, split=split)
    return figures.batch_size_comparison(choices, split[0][0].shape[1], path_name=name)


def figure_learning_rates(seed):
    example = slide_examples.regression_example_init(seed=seed)  # y = x^2 + 0.2 rand
    return figures.learning_rate_comparison(example["X"], example["Y"], [1, 10, 1], seed=seed,
                                            data_name="the slides' y = x^2 + 0.2 rand")


def figure_gradient_descent(seed):
    return figures.gradient_descent_starts()


def figure_slide_regression(seed):
    return figures.slide_regression(seed=seed)


def figure_regression(seed):
    return figures.regression_comparison(datasets.line_with_outliers(seed=seed),
                                         datasets.two_blobs(seed=seed))


def figure_activations(seed):
    return figures.activation_functions()


TINY = dict(layer_dims=[2, 3, 1], m=16, epochs=3, batch_size=8, learning_rate=0.1)
"""The network the CUDA simulator can afford (one Python thread per CUDA thread): seconds."""


def tiny_simulated_runs(seed):
    """Without a GPU: reference, kernels.cpu (where it runs) and kernels.cuda in numba's
    simulator on a tiny network, for figure 7's third panel; None when a GPU ran the full size."""
    if load_path("cuda")[0] is not None:  # a GPU (or the simulator) ran the full size
        return None
    data = datasets.two_blobs(m=2 * TINY["m"], seed=seed, held_out_fraction=0.5)
    X, Y = data.X_train, data.Y_train
    options = dict(learning_rate=TINY["learning_rate"], epochs=TINY["epochs"],
                   batch_size=TINY["batch_size"], seed=seed)
    runs = {}
    for name in ("reference", "cpu"):
        module, _ = load_path(name)
        if module is not None:
            runs[name] = train_run(module, X, Y, TINY["layer_dims"], label=name, **options)
    try:
        runs["cuda"] = run_in_simulator(X, Y, TINY["layer_dims"], **options)
    except RuntimeError as error:
        print(f"figure 7: {error}")
        return None
    dims = "-".join(map(str, TINY["layer_dims"]))
    return {"title": f"no GPU here: kernels.cuda in numba's CUDA simulator,\n"
                     f"tiny network {dims}, two blobs (m = {X.shape[1]}), "
                     f"batch size {TINY['batch_size']}",
            "runs": runs}


def figure_paths(seed):
    data = _breast_cancer(seed)
    return figures.paths_agree(data.X_train, data.Y_train, NETWORK, seed=seed,
                               data_name="breast cancer", tiny=tiny_simulated_runs(seed))


def figure_real_data(seed):
    return figures.real_data_training(_breast_cancer(seed), NETWORK, seed=seed)


# file name -> function(seed) returning the Figure; numbered as in the list
FIGURES = {
    "1_batch_size_comparison.png": figure_batch_sizes,
    "2_learning_rates.png": figure_learning_rates,
    "3_gradient_descent_local_minima.png": figure_gradient_descent,
    "4_slide_regression_example.png": figure_slide_regression,
    "5_linear_and_logistic_regression.png": figure_regression,
    "6_activation_functions.png": figure_activations,
    "7_paths_agree.png": figure_paths,
    "8_breast_cancer_train_vs_held_out.png": figure_real_data,
    "9_computation_graph.png": lambda seed: graph_figure.figure(),
}


def make_gallery(folder=GALLERY_DIR, seed=0, names=None, progress=True):
    """Make the figures (all, or those in `names`), save them as PNGs in `folder`; return paths.

    In the gallery folder itself, PNGs that no figure makes any more are removed, so it holds
    exactly the gallery; nothing is removed from any other folder.
    """
    folder = Path(folder)
    names = list(FIGURES) if names is None else list(names)
    unknown = [name for name in names if name not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; expected some of {list(FIGURES)}")
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    bar = tqdm(names, desc="plots", unit="figure", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        saved.append(save_figure(FIGURES[name](seed), folder / name))
    if len(names) == len(FIGURES) and folder.resolve() == GALLERY_DIR:
        for stale in folder.glob("*.png"):
            if stale.name not in FIGURES:
                stale.unlink()
    return saved


def main(folder=GALLERY_DIR, seed=0):
    start = time.perf_counter()
    saved = make_gallery(folder, seed)
    print(f"{len(saved)} figures written to {Path(folder).resolve()} "
          f"in {time.perf_counter() - start:.1f} s:")
    for path in saved:
        print(f"  {path.name}")
