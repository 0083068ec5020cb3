"""Headless figure scaffolding: the Agg backend, figure sizes, saving that closes the figure."""

from pathlib import Path

import matplotlib

if "inline" not in matplotlib.get_backend():  # a notebook keeps its inline figures
    matplotlib.use("Agg")  # before pyplot: no display needed, the same output on every machine

import matplotlib.pyplot as plt  # noqa: E402

PANEL_SIZE = (5.2, 3.9)  # inches per subplot
DPI = 110

# One colour per path and per batch size, so the same thing has the same colour everywhere.
PATH_COLORS = {"reference": "tab:blue", "cpu": "tab:orange", "cuda": "tab:green"}


def new_figure(ncols=1, nrows=1, title=None, **kwargs):
    """A figure with a grid of axes (always returned as a flat list) and an optional suptitle."""
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows),
        squeeze=False,
        layout="constrained",
        **kwargs,
    )
    if title:
        fig.suptitle(title)
    return fig, list(axes.ravel())


def save_figure(fig, path):
    """Write `fig` as a PNG at `path` (folders made as needed), then close it to free its memory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def close(fig):
    """Close a figure that is not saved (tests)."""
    plt.close(fig)
