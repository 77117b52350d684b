"""Plots of fitted models (matplotlib, imported on first use)."""

import numpy as np

__all__ = ["save_attention_heatmap", "save_permutation_importance_plot", "plot_forecast"]



def _figure_classes(caller):
    """matplotlib's ``Figure`` and Agg canvas (files without a display), or
    an ImportError that says ``caller`` needs matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{caller} needs matplotlib; install it with `pip install matplotlib`."
        ) from exc
    return Figure, FigureCanvasAgg

def save_attention_heatmap(weights, path, *, input_labels=None, output_labels=None,
                           title=None, dpi=120):
    """Save attention weights as a heatmap PNG (needs matplotlib).

    Parameters
    ----------
    weights : array-like of shape (n_output_steps, n_input_steps)
        One entry of the weights returned by
        ``Seq2SeqTransformer.predict(X, return_attention=True)``.
    path : str or path-like
        Where to write the image.
    input_labels : sequence of str, default=None
        Tick labels of the input steps (e.g. ``list(x)`` for a string).
    output_labels : sequence of str, default=None
        Tick labels of the output steps.
    title : str, default=None
        Title of the figure; None for none.
    dpi : int, default=120
        Resolution of the PNG, in dots per inch.

    Returns
    -------
    path : str or path-like
        The path written.
    """
    Figure, FigureCanvasAgg = _figure_classes("save_attention_heatmap")
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2:
        raise ValueError(
            f"weights must be 2-D (n_output_steps, n_input_steps); got shape {w.shape}. "
            "Pass one entry of the list returned by predict(..., return_attention=True)."
        )
    T, S = w.shape
    for name, labels, n in (("input_labels", input_labels, S), ("output_labels", output_labels, T)):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} has {len(labels)} labels but weights have {n} steps.")
    fig = Figure(figsize=(max(4.0, 0.3 * S + 2.0), max(3.0, 0.3 * T + 1.5)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(w, cmap="viridis", aspect="auto", vmin=0.0, vmax=1.0)
    ax.set_xlabel("input step")
    ax.set_ylabel("output step")
    if input_labels is not None:
        ax.set_xticks(range(S), [str(s) for s in input_labels])
    if output_labels is not None:
        ax.set_yticks(range(T), [str(s) for s in output_labels])
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


def save_permutation_importance_plot(result, path, *, labels=None, title=None, dpi=120):
    """Save the result of :func:`skrnn.inspection.permutation_importance` as
    a box plot PNG, one box per channel or segment (needs matplotlib).

    Parameters
    ----------
    result : Bunch
        What ``permutation_importance`` returned (its ``importances``, of
        shape (n_groups, n_repeats), are plotted).
    path : str or path-like
        Where to write the image.
    labels : sequence of str, default=None
        Names of the channels or segments; default ``'0'``, ``'1'``, ...
    title : str, default=None
        Title of the figure; None draws none.
    dpi : int, default=120
        Resolution of the saved image, in dots per inch.

    Returns
    -------
    path : str or path-like
        The path written.
    """
    Figure, FigureCanvasAgg = _figure_classes("save_permutation_importance_plot")
    imp = np.asarray(getattr(result, "importances", None) if not isinstance(result, np.ndarray)
                     else result, dtype=float)
    if imp.ndim != 2:
        raise ValueError(
            "result must be what skrnn.inspection.permutation_importance returns "
            f"(importances of shape (n_groups, n_repeats)); got shape {imp.shape}."
        )
    n = imp.shape[0]
    labels = [str(i) for i in range(n)] if labels is None else [str(v) for v in labels]
    if len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries but the result has {n} groups.")
    fig = Figure(figsize=(6.0, max(2.5, 0.4 * n + 1.2)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    try:
        ax.boxplot(imp.T, orientation="horizontal")
    except TypeError:  # matplotlib < 3.10
        ax.boxplot(imp.T, vert=False)
    ax.set_yticks(range(1, n + 1), labels)
    ax.invert_yaxis()  # the first channel or segment on top
    ax.axvline(0.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("drop in score when shuffled")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


def plot_forecast(history, forecast, interval=None, *, actual=None, ax=None, title=None,
                  n_history=None):
    """Plot one series' history, its forecast and the forecast's interval (needs matplotlib).

    Parameters
    ----------
    history : Series
        The series before the forecast, indexed by time.
    forecast : Series or one-column DataFrame
        The point forecast, indexed by the future stamps (what
        :meth:`skrnn.RNNForecaster.predict` returns for one series).
    interval : DataFrame, default=None
        Lower and upper bounds (its first two columns), indexed like
        ``forecast``, e.g. :meth:`skrnn.RNNForecaster.predict_interval`.
    actual : Series, default=None
        The true future values, drawn dashed when given.
    ax : matplotlib Axes, default=None
        Where to draw; None creates a figure.
    title : str, default=None
        Title of the plot; None draws none.
    n_history : int, default=None
        Draw only the last ``n_history`` steps of the history.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_forecast needs matplotlib; install it with `pip install matplotlib`."
        ) from exc
    import pandas as pd

    if isinstance(forecast, pd.DataFrame):
        if forecast.shape[1] != 1:
            raise ValueError(
                f"forecast must be one series; got a DataFrame with columns "
                f"{list(forecast.columns)!r}. Select one series (e.g. pred.loc[id])."
            )
        forecast = forecast.iloc[:, 0]
    if interval is not None and (interval.shape[1] < 2 or len(interval) != len(forecast)):
        raise ValueError(
            f"interval must have two columns (lower, upper) and {len(forecast)} rows like "
            f"forecast; got shape {interval.shape}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    shown = history if n_history is None else history.iloc[-n_history:]
    ax.plot(shown.index, shown.to_numpy(), color="black", label="history")
    if actual is not None:
        ax.plot(actual.index, actual.to_numpy(), color="black", linestyle="--", label="actual")
    ax.plot(forecast.index, forecast.to_numpy(), color="tab:blue", label="forecast")
    if interval is not None:
        ax.fill_between(forecast.index, interval.iloc[:, 0].to_numpy(),
                        interval.iloc[:, 1].to_numpy(), color="tab:blue", alpha=0.25,
                        label="interval")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return ax
