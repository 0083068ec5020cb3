"""One function per gallery figure. Each takes its data and sizes, runs what it shows, and
returns a matplotlib Figure (titled, axes labelled with units, a legend on every panel);
`gallery` saves them.

Units: costs are the cost function's own value (dimensionless, "cost J"), time is wall-clock
seconds, x/y of the toy problems are dimensionless ("a.u.", arbitrary units).
"""

import numpy as np

from kernels.paths import load_path
from plots.style import PATH_COLORS, new_figure
from reference import activations, network, regression, slide_examples
from reference.gradient_descent import gradient_descent
from train import batch_size
from train.runs import train_run

COST_LABELS = {
    "cross_entropy": "cost J (cross-entropy, unitless)",
    "mse": "cost J (MSE, a.u.²)",
}


def _batch_label(choice, m):
    kind = ("SGD" if choice.batch_size == 1 else "batch GD" if choice.batch_size == m
            else "mini-batch")
    return f"batch {choice.batch_size} ({kind}), alpha {choice.learning_rate:g}"


def batch_size_comparison(choices, m, epochs=batch_size.EPOCHS, layer_dims=batch_size.NETWORK,
                          path_name="kernels.cpu"):
    """Figure 1: the batch-size study's (train/batch_size.py) cost against epochs, updates and
    seconds; the learning-rate choice; held-out cost and accuracy at the end; the memory of one
    step, per batch size."""
    dims = "-".join(map(str, layer_dims))
    fig, axes = new_figure(3, 2, title=(
        f"Batch size on the breast-cancer data: network {dims}, {epochs} epochs on {m} samples, "
        f"alpha chosen per batch size on a validation split, held-out samples kept for the end"))
    ax_epoch, ax_update, ax_time, ax_alpha, ax_held, ax_memory = axes
    for choice in choices:
        run, label = choice.run, _batch_label(choice, m)
        epoch_axis = np.arange(len(run.cost))
        (line,) = ax_epoch.plot(epoch_axis, run.cost, label=f"{label}: {batch_size.cost_rises(run)} rises")
        color = line.get_color()
        ax_update.plot(np.maximum(epoch_axis * choice.updates_per_epoch, 1), run.cost, color=color,
                       label=f"{label}: {choice.updates_per_epoch} per epoch")
        ax_time.plot(run.seconds[1:], run.cost[1:], ".-", ms=3, color=color,
                     label=f"{label}: {run.seconds[-1]:.3g} s")
        rates = sorted(choice.validation_cost)
        ax_alpha.plot(rates, [choice.validation_cost[a] for a in rates], "o-", ms=3, color=color,
                      label=f"batch {choice.batch_size}: chosen alpha {choice.learning_rate:g}")
        ax_alpha.plot(choice.learning_rate, choice.validation_cost[choice.learning_rate], "*", ms=14,
                      color=color, mec="k")
    ylabel = COST_LABELS["cross_entropy"] + ", fitting part"
    ax_epoch.set(title="cost after each epoch (rises: epochs the cost went up)",
                 xlabel="epoch (passes over the fitting part)", ylabel=ylabel, yscale="log")
    ax_update.set(title="the same costs against updates", xlabel="updates of W, b (log scale)",
                  ylabel=ylabel, xscale="log", yscale="log")
    ax_time.set(title=f"against wall-clock time ({path_name} train_step)",
                xlabel="training time (s, log scale)", ylabel=ylabel, xscale="log", yscale="log")
    ax_alpha.set(title=f"choosing alpha: validation cost after {epochs} epochs",
                 xlabel="learning rate alpha (log scale)", ylabel="cost J on the validation part",
                 xscale="log", yscale="log")
    x = np.arange(len(choices))
    fit_costs = [choice.run.cost[-1] for choice in choices]
    held_costs = [choice.run.held_cost[-1] for choice in choices]
    ax_held.bar(x - 0.2, fit_costs, 0.4, color="0.7", label="fitting part (trained on)")
    bars = ax_held.bar(x + 0.2, held_costs, 0.4, color="tab:blue", label="held-out part")
    ax_held.bar_label(bars, labels=[f"{choice.run.held_accuracy[-1]:.1%}" for choice in choices],
                      fontsize=7)
    ax_held.set_xticks(x, [str(choice.batch_size) for choice in choices])
    ax_held.set_ylim(0, 1.35 * max(fit_costs + held_costs))  # room for the legend above the bars
    ax_held.set(title="after the last epoch (held-out accuracy above the bars)",
                xlabel="batch size", ylabel="cost J (cross-entropy, unitless)")
    sizes = [choice.batch_size for choice in choices]
    kib = [choice.step_bytes / 1024 for choice in choices]
    ax_memory.plot(sizes, kib, "o-", color="k", label="peak of one reference train_step")
    for size, value in zip(sizes, kib, strict=True):
        ax_memory.annotate(f"{value:.3g} KiB", (size, value), textcoords="offset points",
                           xytext=(-8, 8), fontsize=7)
    ax_memory.margins(0.15)
    ax_memory.set(title="memory of one step's arrays (tracemalloc)", xlabel="batch size (log scale)",
                  ylabel="peak allocation (KiB)", xscale="log", yscale="log")
    for ax in axes:
        ax.legend(fontsize="x-small")
    return fig


def activation_functions(z_min=-5.0, z_max=5.0, points=401):
    """Figure 6: sigmoid, tanh and ReLU (left) and their derivatives g'(z) (right).

    The derivatives are what backward uses: `*_backward(dA=1, Z)` = g'(Z), from `reference`.
    """
    Z = np.linspace(z_min, z_max, points).reshape(1, points)
    ones = np.ones_like(Z)
    fig, (ax_g, ax_dg) = new_figure(
        2, title="Activation functions g(z) and their derivatives g'(z)"
    )
    for name in ("sigmoid", "tanh", "relu"):
        g, _ = activations.ACTIVATIONS[name]
        g_backward = activations.BACKWARDS[name]
        (line,) = ax_g.plot(Z[0], g(Z)[0], label=name)
        ax_dg.plot(Z[0], g_backward(ones, Z)[0], color=line.get_color(), label=f"{name}'")
    ax_g.set(title="g(z)", xlabel="pre-activation z (a.u.)", ylabel="activation g(z) (a.u.)")
    ax_dg.set(
        title="g'(z) = dA/dZ, as used by backward",
        xlabel="pre-activation z (a.u.)",
        ylabel="derivative g'(z) (a.u.)",
    )
    for ax in (ax_g, ax_dg):
        ax.axhline(0.0, color="0.8", lw=0.8, zorder=0)
        ax.axvline(0.0, color="0.8", lw=0.8, zorder=0)
        ax.legend()
    return fig



def learning_rate_comparison(X, Y, layer_dims, learning_rates=(0.01, 0.2, 2.0), epochs=200,
                             seed=0, hidden="relu", output="linear", cost="mse", path=network,
                             names=("too small", "good", "too large"), data_name=""):
    """Figure 2: one problem, one start, three learning rates: too small, good, too large.

    Batch gradient descent, so every step sees the same cost surface and only alpha differs.
    The too-large rate diverges: its cost grows until it overflows, where its line ends (x).
    """
    dims = "-".join(map(str, layer_dims))
    fig, (ax,) = new_figure(
        title=f"Learning rate alpha: network {dims}{' on ' + data_name if data_name else ''}, "
              f"batch gradient descent"
    )
    runs = [
        train_run(path, X, Y, layer_dims, alpha, epochs, None, seed=seed, hidden=hidden,
                  output=output, cost=cost)
        for alpha in learning_rates
    ]
    J0 = runs[0].cost[0]  # the same start for every rate
    top = 1e3 * J0  # the view stops here; a diverging run is followed off the top
    for alpha, name, run in zip(learning_rates, names, runs, strict=True):
        if run.diverged:
            tag = f"overflowed after {len(run.cost) - 1} epochs"
        elif run.cost[-1] > J0:
            tag = f"diverging: J = {run.cost[-1]:.2g} after {len(run.cost) - 1} epochs"
        else:
            tag = f"final J = {run.cost[-1]:.3g}"
        (line,) = ax.plot(range(len(run.cost)), run.cost, label=f"alpha = {alpha} ({name}): {tag}")
        if run.cost[-1] > top or run.diverged:
            leaves = next((e for e, J in enumerate(run.cost) if J > top), len(run.cost) - 1)
            ax.annotate(f"J grows without bound\n(J = {run.cost[-1]:.1e} at epoch "
                        f"{len(run.cost) - 1})", xy=(leaves, top), xytext=(leaves + 0.08 * epochs,
                        top / 30), color=line.get_color(),
                        arrowprops=dict(arrowstyle="->", color=line.get_color()))
    bottom = 0.5 * min(min(run.cost) for run in runs)
    ax.set(xlabel="epoch (one batch gradient descent step each)",
           ylabel=COST_LABELS[cost] + ", train set", yscale="log", ylim=(bottom, top))
    ax.legend(loc="lower right", fontsize="small")
    return fig


def _double_well(x):
    """f(x) = x^4 - 3x^2 + x: a global minimum near x = -1.30 and a local one near x = 1.13."""
    return x**4 - 3 * x**2 + x


def _double_well_gradient(x):
    return 4 * x**3 - 6 * x + 1


def gradient_descent_starts(starts=(-2.0, -0.6, 0.1, 0.4, 2.0), alpha=0.01, criteria=1e-6,
                            max_iter=2000, f=_double_well, grad_f=_double_well_gradient,
                            x_range=(-2.1, 2.1)):
    """Figure 3: Algorithm 1 on a one-dimensional non-convex f from several start points.

    Left: f and each run's iterates x_k on it (o start, * the minimum it stopped in); right:
    f(x_k) against the iteration k. Runs that stop above the lowest minimum found are marked
    "local minimum": gradient descent keeps the first minimum it reaches.
    """
    results = [gradient_descent(grad_f, x0, alpha, criteria, max_iter) for x0 in starts]
    best = min(float(f(r.x[0])) for r in results)
    fig, (ax_f, ax_k) = new_figure(
        2, title=f"Gradient descent (Algorithm 1) on f(x) = x^4 - 3x^2 + x, alpha = {alpha}"
    )
    x = np.linspace(*x_range, 400)
    ax_f.plot(x, f(x), color="0.6", lw=2, label="f(x)", zorder=0)
    for x0, result in zip(starts, results, strict=True):
        xs = result.trajectory[:, 0]
        f_star = float(f(result.x[0]))
        kind = "global minimum" if f_star <= best + 1e-6 else "local minimum"
        label = f"x0 = {x0:+.1f} -> x* = {result.x[0]:+.3f} ({kind}, {result.iterations} steps)"
        (line,) = ax_f.plot(xs, f(xs), ".-", ms=3, lw=0.8, label=label)
        ax_f.plot(xs[0], f(xs[0]), "o", color=line.get_color())
        ax_f.plot(xs[-1], f(xs[-1]), "*", color=line.get_color(), ms=14, mec="k")
        ax_k.plot(range(len(xs)), f(xs), color=line.get_color(), label=label)
    ax_f.set(title="f and the iterates x_k", xlabel="x (a.u.)", ylabel="f(x) (a.u.)")
    ax_k.set(title="f(x_k) against iteration", xlabel="iteration k", ylabel="f(x_k) (a.u.)",
             xscale="symlog")
    ax_f.legend(fontsize="small")
    ax_k.legend(fontsize="small")
    return fig


def regression_comparison(line_data, blobs, l1_l2_iterations=3000, l1_l2_rate=0.1,
                          logistic_iterations=1000, logistic_rate=0.5):
    """Figure 5: linear regression under L1 and L2 loss on data with outliers (left), and
    logistic regression's decision boundary W^T x + b = 0 on two-dimensional data (right).

    line_data: (X (1, m), Y (1, m), (true slope, intercept), outlier indices), see
    datasets.line_with_outliers. blobs: a datasets.Split with X (2, m).
    """
    X, Y, (slope, intercept), outliers = line_data
    fig, (ax_lin, ax_log) = new_figure(2, title="Linear regression (L1 vs L2 loss) and logistic "
                                                "regression")
    inliers = np.setdiff1d(np.arange(X.shape[1]), outliers)
    ax_lin.scatter(X[0, inliers], Y[0, inliers], s=14, color="0.4", label="data")
    ax_lin.scatter(X[0, outliers], Y[0, outliers], s=30, marker="x", color="tab:red",
                   label=f"{len(outliers)} outliers")
    x = np.linspace(X.min(), X.max(), 2).reshape(1, 2)
    ax_lin.plot(x[0], slope * x[0] + intercept, "k--", lw=1,
                label=f"true line y = {slope:g}x + {intercept:g}")
    for loss in ("l1", "l2"):
        W, b, _ = regression.fit_linear_regression(X, Y, loss, l1_l2_rate, l1_l2_iterations)
        y_fit = regression.linear_regression_predict(x, W, b)[0]
        ax_lin.plot(x[0], y_fit, lw=2,
                    label=f"{loss.upper()} fit: y = {W[0, 0]:.2f}x + {b[0, 0]:.2f}")
    ax_lin.set(title="linear regression: L1 resists outliers", xlabel="feature x (a.u.)",
               ylabel="target y (a.u.)")
    ax_lin.legend(fontsize="small")

    Xb, Yb = blobs.X_train, blobs.Y_train
    W, b, _ = regression.fit_logistic_regression(Xb, Yb, logistic_rate, logistic_iterations)
    accuracy = float(np.mean(regression.logistic_regression_predict(Xb, W, b) == Yb))
    lo, hi = Xb.min(axis=1) - 0.5, Xb.max(axis=1) + 0.5
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 120), np.linspace(lo[1], hi[1], 120))
    grid = np.stack([g0.ravel(), g1.ravel()])
    proba = regression.logistic_regression_predict_proba(grid, W, b).reshape(g0.shape)
    ax_log.contourf(g0, g1, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    for label, color in ((0, "tab:blue"), (1, "tab:red")):
        mask = Yb[0] == label
        ax_log.scatter(Xb[0, mask], Xb[1, mask], s=12, color=color, label=f"class {label}")
    x0 = np.array([lo[0], hi[0]])
    ax_log.plot(x0, -(W[0, 0] * x0 + b[0, 0]) / W[1, 0], "k-", lw=2,
                label=f"decision boundary W^T x + b = 0 (train accuracy {accuracy:.0%})")
    ax_log.set(title="logistic regression: P(y = 1 | x), boundary at 0.5",
               xlabel="feature x1 (standardized)", ylabel="feature x2 (standardized)",
               xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    ax_log.legend(fontsize="small", loc="upper left")
    return fig


PATH_STYLES = {"reference": dict(lw=4, alpha=0.5), "cpu": dict(lw=2, ls="--"),
               "cuda": dict(lw=1.5, ls=":")}


def relative_difference(a, b):
    """Per entry |a - b| / max(1e-8, |a| + |b|): the tests' measure (tests/torch_compare.py)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


def _overlay_paths(ax, runs, reasons):
    """Each path's cost per epoch, on top of each other; a path that did not run says why."""
    reference = runs.get("reference")
    for name in PATH_COLORS:  # always in the order reference, cpu, cuda
        if name in reasons:
            ax.plot([], [], color=PATH_COLORS[name], label=f"{name}: not run ({reasons[name]})")
        if name not in runs:
            continue
        run = runs[name]
        label = f"{name}: final J = {run.cost[-1]:.6g}"
        if reference is not None and name != "reference":
            label += f", max rel. diff. {relative_difference(run.cost, reference.cost).max():.0e}"
        ax.plot(range(len(run.cost)), run.cost, color=PATH_COLORS[name], label=label,
                **PATH_STYLES[name])
    ax.set(xlabel="epoch (passes over the training set)",
           ylabel=COST_LABELS["cross_entropy"] + ", train set")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize="small", loc="best")


def paths_agree(X, Y, layer_dims, paths=("reference", "cpu", "cuda"), epochs=30,
                learning_rate=0.05, batch_size=32, seed=0, data_name="", tiny=None):
    """Figure 7: one network, one start, the same mini-batches, trained through each path.

    The cost curves lie on top of each other when the paths compute the same thing; the second
    panel shows each fast path's relative difference from the reference per epoch. A path that
    cannot run here is listed in the legend with the reason.
    tiny: optional {"title": str, "runs": {path: Run}}, runs made elsewhere at a tiny size (the
    CUDA simulator, see train/simulated.py), drawn in a third panel.
    """
    dims = "-".join(map(str, layer_dims))
    fig, axes = new_figure(
        3 if tiny else 2,
        title=f"The same training through reference, kernels.cpu and kernels.cuda: network {dims}, "
              f"{data_name or 'data'} (m = {X.shape[1]}), batch size {batch_size}",
    )
    ax_cost, ax_diff = axes[:2]
    runs, reasons = {}, {}
    for name in paths:
        module, reason = load_path(name)
        if module is None:
            reasons[name] = reason
            continue
        runs[name] = train_run(module, X, Y, layer_dims, learning_rate, epochs, batch_size,
                               seed=seed, label=name)
    if tiny:
        for name in set(reasons) & set(tiny["runs"]):
            reasons[name] = "no GPU here; simulated at a tiny size, right"
    _overlay_paths(ax_cost, runs, reasons)
    ax_cost.set(title="cost against epoch (the curves overlap)")
    reference = runs.get("reference")
    for name, run in runs.items():
        if name != "reference" and reference is not None:
            rel = relative_difference(run.cost, reference.cost)
            ax_diff.plot(range(len(rel)), np.maximum(rel, 1e-17), color=PATH_COLORS[name],
                         label=f"{name} vs reference (max {rel.max():.1e}; 1e-17 shown for 0)")
    if not ax_diff.get_lines():
        ax_diff.plot([], [], " ", label="no fast path ran here")
    ax_diff.axhline(1e-10, color="k", ls="--", lw=1,
                    label="the tests' float64 forward tolerance, 1e-10")
    ax_diff.set(title="relative difference of the cost from the reference",
                xlabel="epoch (passes over the training set)",
                ylabel="|J_path - J_ref| / (|J_path| + |J_ref|)", yscale="log")
    ax_diff.legend(fontsize="small", loc="center right")
    if tiny:
        _overlay_paths(axes[2], tiny["runs"], {})
        axes[2].set(title=tiny["title"])
    return fig


def training_curves(run, title, m_train, m_held, cost="cross_entropy"):
    """Cost (left) and accuracy (right) per epoch on the training and the held-out part of a
    data set, from a `Run` recorded with `held=`; used by figure 8 and `invoke train`."""
    fig, (ax_cost, ax_acc) = new_figure(2, title=title)
    epochs_axis = range(len(run.cost))
    ax_cost.plot(epochs_axis, run.cost, label=f"train (m = {m_train}): final {run.cost[-1]:.3g}")
    ax_cost.plot(epochs_axis, run.held_cost,
                 label=f"held-out (m = {m_held}): final {run.held_cost[-1]:.3g}")
    ax_acc.plot(epochs_axis, np.array(run.accuracy) * 100,
                label=f"train: final {run.accuracy[-1]:.1%}")
    ax_acc.plot(epochs_axis, np.array(run.held_accuracy) * 100,
                label=f"held-out: final {run.held_accuracy[-1]:.1%}")
    if run.diverged:
        ax_cost.plot([], [], " ", label=f"diverged (overflow) after epoch {len(run.cost) - 1}")
    ax_cost.set(title="cost", xlabel="epoch (passes over the training set)",
                ylabel=COST_LABELS[cost], yscale="log")
    ax_acc.set(title="accuracy (A[L] > 0.5 taken as class 1)",
               xlabel="epoch (passes over the training set)", ylabel="accuracy (%)")
    ax_cost.legend()
    ax_acc.legend()
    return fig


def real_data_training(split, layer_dims, epochs=60, learning_rate=0.05, batch_size=32, seed=0,
                       path=network, data_title="Wisconsin Diagnostic Breast Cancer"):
    """Figure 8: a classification network on a real data set: cost and accuracy per epoch on the
    training part and on the held-out part (never trained on)."""
    run = train_run(path, split.X_train, split.Y_train, layer_dims, learning_rate, epochs,
                    batch_size, seed=seed, held=(split.X_held, split.Y_held))
    dims = "-".join(map(str, layer_dims))
    title = (f"{data_title}: network {dims}, batch size {batch_size}, "
             f"learning rate {learning_rate}")
    return training_curves(run, title, split.X_train.shape[1], split.X_held.shape[1])


def slide_regression(steps=200, learning_rate=0.2, snapshots=(0, 5, 20, 200), seed=0):
    """Figure 4: the slides' regression example (reference.slide_examples): y = x^2 + 0.2 rand
    as a scatter, and the fit of the 1-10-1 network (ReLU hidden layer, linear output, MSE) after
    several of its `steps` gradient descent steps on all 100 points with learning rate 0.2.

    Right: the cost J after every step, with the snapshot steps marked.
    """
    example = slide_examples.regression_example_init(seed=seed)
    X, Y, initial = example["X"], example["Y"], example["parameters"]
    grid = np.linspace(-1.0, 1.0, 200).reshape(1, 200)

    def fit(parameters):
        return network.forward(grid, parameters, "relu", "linear")[0][0]

    fits = {0: fit(initial)} if 0 in snapshots else {}

    def snapshot(t, parameters):  # called after step t's update, i.e. after t + 1 steps
        if t + 1 in snapshots:
            fits[t + 1] = fit(parameters)

    costs, trained = slide_examples.regression_example(X, Y, initial, learning_rate, steps,
                                                       callback=snapshot)
    AL, _ = network.forward(X, trained, "relu", "linear")
    costs = costs + [network.compute_cost(AL, Y, "mse")]  # costs[k]: J after k steps
    m = X.shape[1]
    fig, (ax_fit, ax_cost) = new_figure(
        2, title=f"The slides' regression example: y = x^2 + 0.2 rand, network 1-10-1,"
                 f" learning rate {learning_rate}, {steps} steps",
    )
    ax_fit.scatter(X[0], Y[0], s=12, color="0.5", label=f"data (m = {m})")
    colors = {step: f"C{i}" for i, step in enumerate(fits)}
    for step, y_fit in fits.items():
        ax_fit.plot(grid[0], y_fit, color=colors[step], lw=2, label=f"fit after {step} steps")
    ax_fit.set(title="data and the network's fit", xlabel="x (a.u.)", ylabel="y (a.u.)")
    ax_fit.legend(fontsize="small")
    ax_cost.plot(range(len(costs)), costs, color="k", lw=1, label="cost J after k steps")
    for step in fits:
        ax_cost.plot(step, costs[step], "o", color=colors[step], label=f"after {step} steps")
    ax_cost.set(title="cost against step", xlabel="gradient descent steps taken k",
                ylabel=COST_LABELS["mse"], yscale="log")
    ax_cost.legend(fontsize="small")
    return fig
