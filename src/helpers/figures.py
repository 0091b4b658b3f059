"""Figures, drawn from tidy tables with seaborn; the theme is set once, here.

Axes-level functions take ``data`` and an optional ``ax`` and return the Axes;
figure-level wrappers return the Figure. Figures compute nothing a table in
the same notebook does not also show, and every parameter a legend or axis
states (confidence level, α, baseline visit) is read from the table that was
computed with it, so a figure cannot say 95 % when the table used 90 %.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import pandas as pd
import seaborn as sns
from IPython.display import Image, display
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.paths import resolve_path
from helpers.precision import format_count, format_p, format_percent
from helpers.study import Study, in_sentence, label_for

__all__ = [
    "LABEL_POINTS",
    "PER_PATIENT_LIMIT",
    "PRINT_DPI",
    "SCREEN_DPI",
    "changes_figure",
    "cohort_figure",
    "describe_figure",
    "equivalence_figure",
    "in_sentence",
    "patient_antibody_figure",
    "plot_changes",
    "plot_characteristic",
    "plot_patient_antibodies",
    "plot_reachability",
    "plot_trajectories",
    "reachability_figure",
    "save_figures",
    "set_theme",
    "settle_layout",
    "show",
    "trajectories_figure",
]

_COLOURS = ["#1b6ca8", "#c4452b", "#2a7f62", "#7a4fa3", "#b5852b"]

#: Up to this many patients, a figure draws each patient (a line or a point). Above, it draws
#: their distribution (median and quartiles, or counts), which stays legible, and quick to
#: draw, at any size; the legend says which.
PER_PATIENT_LIMIT = 100

#: Resolution of the figures a notebook shows, and the one their layout is computed at once
#: (:func:`settle_layout`) for every rendering: shown, and written as PNG and SVG.
SCREEN_DPI = 100


def set_theme() -> None:
    """Set the compendium's one theme: seaborn ``ticks`` for figures, untruncated tables.

    pandas' default display cuts text cells at 50 characters and hides the
    middle rows and columns of long and wide tables; notes, methods and rows a
    reader needs must be shown whole, so these limits are lifted.

    Examples
    --------
    >>> set_theme()
    """
    sns.set_theme(context="notebook", style="ticks", font_scale=1.0)
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_columns", None)
    pd.set_option("display.max_rows", None)
    pd.set_option("display.width", 200)
    plt.rcParams.update({"figure.dpi": SCREEN_DPI, "savefig.dpi": 150, "svg.hashsalt": "amsct"})


def _time_label(study: Study | None) -> str:
    return study.time_label if study is not None else "Months after the intervention"


def plot_characteristic(
    data: pd.DataFrame,
    *,
    characteristic: str,
    study: Study,
    ax: Axes | None = None,
    **kwargs: object,
) -> Axes:
    """Swarm plot of one numeric characteristic, one dot per patient, by the first category.

    Tied values sit side by side (:func:`seaborn.swarmplot`), so every patient is seen.

    Parameters
    ----------
    data : pandas.DataFrame
        A patients table.
    characteristic : str
        A numeric characteristic of the study definition.
    study : Study
        Gives the label, unit and the category (e.g. sex) the dots are split by.
    ax : matplotlib Axes, optional
        Default: the current Axes.
    **kwargs
        Passed to :func:`seaborn.swarmplot`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.study import load_study
    >>> fig, ax = plt.subplots()
    >>> ax = plot_characteristic(pd.DataFrame({"sex": ["M", "F"], "age_years": [20, 42]}),
    ...                          characteristic="age_years", study=load_study("data/study.yaml"),
    ...                          ax=ax)
    >>> ax.get_xlabel(), [t.get_text() for t in ax.get_yticklabels()]
    ('Age (years)', ['Male', 'Female'])
    >>> plt.close(fig)
    """
    ax = ax or plt.gca()
    c = study.characteristic(characteristic)
    category = next(
        (k for k in study.characteristics if k.type == "category" and k.code in data), None
    )
    frame = data.assign(_all="All patients")
    y, order = "_all", ["All patients"]
    if category is not None:
        names = {lv.value: lv.label for lv in category.levels}
        frame = frame.assign(_level=data[category.code].map(names))
        y, order = "_level", [lv.label for lv in category.levels]
    palette = dict(zip(order, _COLOURS, strict=False))
    sns.swarmplot(
        data=frame,
        x=characteristic,
        y=y,
        hue=y,
        order=order,
        hue_order=order,
        palette=palette,
        size=8,
        legend=False,
        ax=ax,
        **kwargs,
    )
    ax.set(xlabel=f"{c.label} ({c.unit})" if c.unit else c.label, ylabel="", title=c.label)
    values = pd.to_numeric(data[characteristic], errors="coerce").dropna()
    if len(values) and (values == values.round()).all():  # whole numbers: no tick at 3.2 weeks
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    return ax


def plot_reachability(
    matrix: pd.DataFrame,
    *,
    ax: Axes | None = None,
    study: Study | None = None,
    **kwargs: object,
) -> Axes:
    """Heat map of which tests can reach which reported p-values.

    Parameters
    ----------
    matrix : pandas.DataFrame
        Comparisons × tests of booleans (:func:`helpers.reproduction.reachability_matrix`;
        a trailing count row is ignored).
    ax : matplotlib Axes, optional
    study : Study, optional
        Outcome names for the comparisons (tests get their short names).
    **kwargs
        Passed to :func:`seaborn.heatmap`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> m = pd.DataFrame({"paired_t": [True, False]}, index=["a", "b"])
    >>> fig, ax = plt.subplots()
    >>> plot_reachability(m, ax=ax).get_title()
    'Can the test give the reported p-value?'
    >>> plt.close(fig)
    """
    ax = ax or plt.gca()
    from helpers.stats import SHORT_NAMES

    cells = matrix[[str(i).startswith("reachable (of") is False for i in matrix.index]]

    def comparison(text: object) -> str:
        code, _, rest = str(text).partition(": ")
        return f"{label_for(code, study, unit=False)}: {rest}" if rest else str(text)

    cells = cells.rename(index=comparison, columns=lambda c: SHORT_NAMES.get(str(c), str(c)))
    sns.heatmap(
        cells.eq(True).astype(int),
        cmap=["#e8e8e8", "#2a7f62"],
        vmin=0,
        vmax=1,
        cbar=False,
        linewidths=1,
        linecolor="white",
        annot=cells.map(lambda v: "yes" if v is True else ("?" if v is None else "no")),
        fmt="",
        ax=ax,
        **kwargs,
    )
    ax.set(xlabel="", ylabel="", title="Can the test give the reported p-value?")
    ax.tick_params(axis="x", rotation=30)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    return ax


def reachability_figure(matrix: pd.DataFrame, *, study: Study | None = None) -> Figure:
    """Figure of :func:`plot_reachability`, sized to the matrix.

    Parameters
    ----------
    matrix : pandas.DataFrame
    study : Study, optional
        Outcome names for the comparisons.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> reachability_figure(pd.DataFrame({"t": [True]}, index=["a"])).axes[0].get_title()
    'Can the test give the reported p-value?'
    """
    rows = [i for i in matrix.index if not str(i).startswith("reachable (of")]
    longest = max((len(label_for(str(i).partition(": ")[0], study, unit=False)) + 20
                   for i in rows), default=10)  # fmt: skip
    fig, ax = plt.subplots(
        figsize=(1.3 * matrix.shape[1] + 0.09 * longest + 1.2, max(0.55 * len(rows) + 2.0, 3.6)),
        layout="constrained",
    )
    plot_reachability(matrix, ax=ax, study=study)
    return fig


def cohort_figure(patients: pd.DataFrame, *, study: Study) -> Figure:
    """One panel per Table 1 characteristic: a dot per patient, or counts when none is a number.

    Numeric characteristics get a swarm plot each (:func:`plot_characteristic`);
    when the patients table has none, each category gets a bar of patients per level.

    Parameters
    ----------
    patients : pandas.DataFrame
        A validated patients table.
    study : Study

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from helpers.data import load_cohort
    >>> cohort = load_cohort("data/standin", study="data/study.yaml")
    >>> len(cohort_figure(cohort.patients, study=cohort.study).axes)
    3
    """
    usable = [c for c in study.characteristics if c.table_one and c.code in patients]
    numeric = [c for c in usable if c.type != "category"]
    shown = numeric or usable
    # laid out (constrained) once drawn: seaborn's swarm plot draws the whole figure after each
    # panel, and laying it out at each of those draws would only be thrown away
    fig, axes = plt.subplots(
        1, max(len(shown), 1), figsize=(3.6 * max(len(shown), 1), 2.8), layout="none",
        squeeze=False,
    )  # fmt: skip
    for ax, c in zip(axes[0], shown, strict=False):
        if c.type != "category":
            plot_characteristic(patients, characteristic=c.code, study=study, ax=ax)
            continue
        names = {lv.value: lv.label for lv in c.levels}
        counts = patients[c.code].map(names).value_counts()
        order = [lv.label for lv in c.levels]
        ax.barh(order[::-1], [int(counts.get(k, 0)) for k in order[::-1]], color=_COLOURS[0])
        ax.set(xlabel="Patients", title=c.label)
    if not shown:
        _no_data(axes[0][0], "nothing to show")
    fig.set_layout_engine("constrained")
    return fig


def _no_data(ax: Axes, what: str) -> Axes:
    """Say on an empty panel that there is nothing to draw, instead of failing."""
    ax.text(0.5, 0.5, what, ha="center", va="center", transform=ax.transAxes, color="#555555")
    ax.set(xticks=[], yticks=[])
    return ax


def _level(table: pd.DataFrame, column: str = "ci_level") -> str:
    """Read the one confidence level a table's intervals were computed at, as a percentage."""
    levels = set(table[column].dropna()) if column in table else set()
    if len(levels) != 1:
        raise ValueError(
            f"the table must carry exactly one {column} for the legend, found {sorted(levels)}"
        )
    return format_percent(float(levels.pop()))


def describe_figure(fig: Figure) -> str:
    """Describe a figure in words for its alternative text: titles and legend entries.

    The titles are the figure's own (``suptitle``), then each panel's.

    The legends state the parameters a figure was drawn with (confidence
    level, α), so the alternative text does too, and tests can read it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    str

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1], label="mean (90% CI)")
    >>> _ = ax.set_title("HbA1c")
    >>> _ = ax.legend()
    >>> describe_figure(fig)
    'Figure: HbA1c. Legend: mean (90% CI).'
    >>> _ = fig.suptitle("Glycaemic outcomes")
    >>> describe_figure(fig)
    'Figure: Glycaemic outcomes; HbA1c. Legend: mean (90% CI).'
    """
    titles = [fig.get_suptitle()] if fig.get_suptitle() else []  # over the whole figure
    titles += [ax.get_title() for ax in fig.axes if ax.get_title()]
    entries: list[str] = []
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    for legend in legends:
        for text in legend.get_texts() if legend is not None else []:
            if text.get_text() not in entries:
                entries.append(text.get_text())
    alt = "Figure: " + "; ".join(titles) if titles else "Figure"
    return _then(alt, f"Legend: {'; '.join(entries)}.") if entries else alt


def _then(sentence: str, following: str) -> str:
    """Put a sentence before the next, with a full stop unless it ends with its own.

    Examples
    --------
    >>> _then("Figure: HbA1c", "Legend: mean."), _then("Figure: Did it rise?", "LABEL")
    ('Figure: HbA1c. Legend: mean.', 'Figure: Did it rise? LABEL')
    """
    stop = "" if sentence.endswith((".", "?", "!")) else "."
    return f"{sentence}{stop} {following}"


def settle_layout(fig: Figure) -> Figure:
    """Lay a figure out once, at :data:`SCREEN_DPI`, and keep that layout from then on.

    A figure made with ``layout="constrained"`` runs matplotlib's constrained
    layout engine at every draw, and ``savefig`` runs it again for each file.
    Here it runs once, at the resolution the notebook shows, and the engine is
    then taken off: the positions it found (in inches) stay, and the figure
    shown, its print PNG and its SVG all have that one layout; a figure legend
    is held where the layout put it, not at the edge of each file's tight box.
    Settling a settled figure, or one without a layout engine, changes nothing.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``, settled.

    Examples
    --------
    >>> fig, ax = plt.subplots(layout="constrained")
    >>> settle_layout(fig).get_layout_engine() is None
    True
    >>> plt.close(fig)
    """
    if fig.get_layout_engine() is None:
        return fig
    dpi = fig.dpi
    if dpi != SCREEN_DPI:
        fig.set_dpi(SCREEN_DPI)
    try:
        fig.draw_without_rendering()
    finally:
        if dpi != SCREEN_DPI:
            fig.set_dpi(dpi)
    # no engine at all (not matplotlib's placeholder, for which savefig would still walk the
    # figure once more), whatever rcParams would pick for a figure without one
    with plt.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    for legend in fig.legends:
        # a figure legend is anchored to the figure's box, which a tight box replaces while
        # a figure is shown or written: it would move with the box's edge (onto the data's
        # label under the figure). Held to the unit box in figure coordinates, which the
        # tight box's transform keeps in place, it stays where the layout put it.
        legend.set_bbox_to_anchor((0, 0, 1, 1), transform=fig.transFigure)
    return fig


def show(fig: Figure, alt: str | None = None, *, label: str | None = None) -> None:
    """Display a figure once in a notebook, whatever the matplotlib backend, and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    alt : str, optional
        Alternative text for screen readers and the HTML report; default,
        :func:`describe_figure`.
    label : str, optional
        The data's label (:attr:`helpers.data.Cohort.data_label`), printed
        under the figure, recorded as the image's description and added to its
        alternative text, as in the files :func:`save_figures` writes: a
        figure copied from the notebook, its HTML or the site still says the
        data are not patient records.

    Notes
    -----
    The figure is rendered to PNG here rather than by the notebook's backend,
    so it shows the same under ``inline``, ``Agg`` and papermill. Its layout is
    settled first (:func:`settle_layout`), so the files :func:`save_figures`
    writes afterwards have the layout shown. A labelled figure is cut to its
    content, as the files are, so that the label under it is in the picture.

    Examples
    --------
    >>> show(plt.figure(), label="SIMULATED DATA — NOT PATIENT RECORDS")
    <IPython.core.display.Image object>
    """
    if alt is None:
        alt = describe_figure(fig)
    if label is not None:  # a screen reader hears it too, as a sentence of its own
        alt = _then(alt, label)
    buffer = io.BytesIO()
    settle_layout(fig)
    options: dict[str, Any] = {"metadata": {"Software": None}}
    if label is not None:
        options = {"metadata": {"Software": None, "Description": label}, **_TIGHT}
    with _label_below(fig, label):
        fig.savefig(buffer, format="png", dpi=SCREEN_DPI, **options)
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png"), metadata={"image/png": {"alt": alt}})


#: How every figure file (and a labelled figure shown) is cut: to its drawn content and a margin.
_TIGHT: dict[str, Any] = {"bbox_inches": "tight", "pad_inches": 0.05}


#: Print resolution of the PNG files written for a manuscript.
PRINT_DPI = 300


#: Size of the data's label printed under a figure in its files (points).
LABEL_POINTS = 8


@contextlib.contextmanager
def _label_below(fig: Figure, label: str | None) -> Iterator[None]:
    """Put ``label`` under everything the figure draws while it is shown or written.

    Left-aligned with the drawn content (a legend below the axes included), a
    line below it, wrapped at the figure's width; the tight box of the image or
    file grows downward to take it in. The content is measured at :data:`PRINT_DPI`,
    where text is taller than at the layout's 100 dpi. The figure is left as it
    was.
    """
    if label is None:
        yield
        return
    dpi = fig.dpi
    fig.set_dpi(PRINT_DPI)
    try:
        # inches, the drawn content; matplotlib finds a renderer for any canvas (in a kernel,
        # a shown figure's is the base canvas, which has none of its own)
        box = fig.get_tightbbox()
    finally:
        fig.set_dpi(dpi)
    width, height = fig.get_size_inches()
    gap = LABEL_POINTS / 72
    note = fig.text(
        box.x0 / width, (box.y0 - gap) / height, label, ha="left", va="top",
        fontsize=LABEL_POINTS, color="0.25", wrap=True,
    )  # fmt: skip
    try:
        yield
    finally:
        note.remove()


def save_figures(
    figures: Mapping[str, Figure], folder: str | Path | None, *, prefix: str, label: str | None
) -> list[str]:
    """Write figures as files for a manuscript: PNG at print resolution and SVG (vector).

    Each file is cut to the figure's drawn content plus a small margin
    (``bbox_inches="tight"``, measured at the file's own resolution), so no
    label is clipped; neither format records a date or the software, so the
    same figure gives the same bytes. The layout is the one shown
    (:func:`settle_layout`: computed once, at :data:`SCREEN_DPI`), so a figure
    gives the same files whether or not it was shown first. A notebook opened by
    hand (``folder`` None) writes nothing.

    A figure file travels without the notebook around it, so ``label`` (the
    data's :attr:`~helpers.data.Cohort.data_label`, e.g. "STAND-IN DATA —
    RECONSTRUCTED, NOT PATIENT RECORDS") is printed under the figure in both
    files and recorded as their description (PNG ``tEXt``, SVG Dublin Core);
    the figure itself is left as it was. Patient records (``label`` None) are
    written without one.

    Parameters
    ----------
    figures : mapping of str to Figure
        File stem → figure.
    folder : str, Path or None
        Where to write (the runner's ``tables_dir``); relative to the project root.
    prefix : str
        Prepended to each file name, e.g. the notebook's number.
    label : str or None
        Printed under each figure in its files, or None for no label.

    Returns
    -------
    list of str
        The files written, relative to ``folder``'s parent.

    Examples
    --------
    >>> import tempfile
    >>> fig = plt.figure()
    >>> save_figures({"empty": fig}, tempfile.mkdtemp(), prefix="02", label="SIMULATED")[0][-13:]
    '/02_empty.png'
    >>> fig.texts  # the label was in the files only
    []
    """
    if folder is None:
        return []
    out = resolve_path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, fig in figures.items():
        settle_layout(fig)  # one layout for the figure shown and both files
        described = {} if label is None else {"Description": label}
        with _label_below(fig, label):
            for suffix, extra in (
                ("png", {"dpi": PRINT_DPI, "metadata": {"Software": None, **described}}),
                ("svg", {"metadata": {"Date": None, "Creator": None, **described}}),
            ):
                path = out / f"{prefix}_{stem}.{suffix}"
                # the box is measured for each file: text measures wider at 300 dpi, and in
                # SVG, than at the 100 dpi of the layout
                fig.savefig(path, format=suffix, **_TIGHT, **extra)
                written.append(f"{out.name}/{path.name}")
    return written


def plot_trajectories(
    data: pd.DataFrame,
    means: pd.DataFrame,
    *,
    outcome: str,
    study: Study | None = None,
    ax: Axes | None = None,
    per_patient: bool | None = None,
) -> Axes:
    """One outcome over the visits: a thin line per patient, the mean and its CI on top.

    Above :data:`PER_PATIENT_LIMIT` patients, the patients' median and
    interquartile range at each visit (seaborn's 50 % percentile interval, the
    summary table's median [IQR]) take the place of their lines.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy measurements.
    means : pandas.DataFrame
        From :func:`helpers.outcomes.visit_means_ci` (the figure draws only what
        that table holds).
    outcome : str
    study : Study, optional
        Labels of the outcome and the time axis.
    ax : matplotlib Axes, optional
    per_patient : bool, optional
        Draw each patient (``True``) or their distribution (``False``); by
        default, each patient when this panel has at most
        :data:`PER_PATIENT_LIMIT` of them (the figure-level functions decide
        once for all their panels).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from helpers.simulate import simulate_cohort
    >>> from helpers.study import load_study
    >>> STUDY = load_study("data/study.yaml")
    >>> from helpers.outcomes import visit_means_ci
    >>> from helpers.study import load_study
    >>> study = load_study("data/study.yaml")
    >>> m = simulate_cohort(5, study=study).measurements
    >>> fig, ax = plt.subplots()
    >>> ax = plot_trajectories(m, visit_means_ci(m), outcome="hba1c", study=study, ax=ax)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Months after infusion', 'HbA1c (%)')
    >>> plt.close(fig)
    """
    ax = ax or plt.gca()
    sub = data[data["outcome"] == outcome]
    if sub.empty:
        return _no_data(ax, "no measurements")
    patients = sub["patient_id"].nunique()
    if _each_patient(per_patient, patients):
        sns.lineplot(
            data=sub,
            x="visit_month",
            y="value",
            units="patient_id",
            estimator=None,
            color="#9a9a9a",
            linewidth=0.8,
            alpha=0.7,
            marker="o",
            markersize=3,
            ax=ax,
        )
    else:
        sns.lineplot(
            data=sub,
            x="visit_month",
            y="value",
            estimator="median",
            errorbar=("pi", 50),
            color="#7a7a7a",
            linewidth=1.2,
            marker="o",
            markersize=3,
            label=f"median and IQR of {format_count(patients)} patients",
            ax=ax,
        )
    m = means[means["outcome"] == outcome]
    ax.errorbar(
        m["visit_month"],
        m["mean"],
        yerr=[m["mean"] - m["ci_low"], m["ci_high"] - m["mean"]],
        color="#1b6ca8",
        linewidth=2.2,
        marker="s",
        capsize=4,
        label=f"mean ({_level(m)} t CI)",
    )
    ax.set(
        xlabel=_time_label(study),
        ylabel=label_for(outcome, study),
        xticks=sorted(set(sub["visit_month"].unique().tolist())),
    )
    ax.legend(loc="best", frameon=False, fontsize=8)
    return ax


def plot_changes(
    changes: pd.DataFrame,
    comparisons: pd.DataFrame,
    *,
    outcome: str,
    study: Study | None = None,
    ax: Axes | None = None,
    per_patient: bool | None = None,
) -> Axes:
    """Change from baseline per patient at each visit, with the estimated change and its CI.

    Above :data:`PER_PATIENT_LIMIT` patients, a box per visit (median,
    quartiles, whiskers to 1.5 IQR, no outliers drawn) takes the place of
    their points.

    Parameters
    ----------
    changes : pandas.DataFrame
        From :func:`helpers.outcomes.change_from_baseline`.
    comparisons : pandas.DataFrame
        Primary-analysis rows of :func:`helpers.outcomes.compare_to_baseline`.
    outcome : str
    study : Study, optional
        Labels of the outcome and the time axis.
    ax : matplotlib Axes, optional
    per_patient : bool, optional
        Draw each patient (``True``) or their distribution (``False``); by
        default, each patient when this panel has at most
        :data:`PER_PATIENT_LIMIT` of them (the figure-level functions decide
        once for all their panels).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from helpers.simulate import simulate_cohort
    >>> from helpers.study import load_study
    >>> STUDY = load_study("data/study.yaml")
    >>> from helpers.outcomes import change_from_baseline, compare_to_baseline
    >>> from helpers.study import load_study
    >>> study = load_study("data/study.yaml")
    >>> m = simulate_cohort(6, study=study).measurements
    >>> cmp = compare_to_baseline(m, outcomes=["hba1c"], sensitivity=None)
    >>> fig, ax = plt.subplots()
    >>> plot_changes(change_from_baseline(m), cmp, outcome="hba1c", study=study, ax=ax).get_xlabel()
    'Months after infusion'
    >>> plt.close(fig)
    """
    ax = ax or plt.gca()
    sub = changes[changes["outcome"] == outcome]
    if sub.empty:
        return _no_data(ax, "no patient measured at baseline and later")
    ax.axhline(0, color="black", linewidth=0.8)
    patients = sub["patient_id"].nunique()
    if _each_patient(per_patient, patients):
        sns.stripplot(
            data=sub,
            x="visit_month",
            y="change",
            color="#9a9a9a",
            jitter=False,
            size=5,
            ax=ax,
            native_scale=True,
        )
    else:
        visits = sorted(sub["visit_month"].unique().tolist())
        parts = ax.boxplot(
            [sub.loc[sub["visit_month"] == v, "change"].to_numpy() for v in visits],
            positions=visits,
            widths=0.35,
            showfliers=False,
            patch_artist=True,
            orientation="vertical",
            boxprops={"facecolor": "#d0d0d0", "gid": "box"},
            medianprops={"color": "black", "gid": "median"},
            whiskerprops={"gid": "whisker"},
        )
        parts["boxes"][0].set_label(f"{format_count(patients)} patients (box: quartiles)")
    est = comparisons[(comparisons["outcome"] == outcome) & (comparisons["analysis"] == "primary")]
    est = est.dropna(subset=["change_estimate"])
    # the estimate is drawn just right of the patients' points so neither hides the other
    ax.errorbar(
        est["visit_month"] + 0.25,
        est["change_estimate"],
        yerr=[
            est["change_estimate"] - est["change_ci_low"],
            est["change_ci_high"] - est["change_estimate"],
        ],
        fmt="D",
        color="#c4452b",
        capsize=4,
        markersize=7,
        label=_estimate_label(est),
    )
    shown = sorted(set(sub["visit_month"].unique().tolist()))
    if shown:
        ax.set_xticks(shown)
        ax.set_xlim(min(shown) - 0.6, max(shown) + 0.6)
    ax.set(xlabel=_time_label(study), ylabel=f"Change in {in_sentence(label_for(outcome, study))}")
    if not _each_patient(per_patient, patients):
        _headroom(ax)  # after the estimates, so that none is cut off
    ax.legend(loc="best", frameon=False, fontsize=8)
    return ax


def _estimate_label(est: pd.DataFrame) -> str:
    """Name the change a changes figure draws (mean or median), its interval's level and method.

    Examples
    --------
    >>> _estimate_label(pd.DataFrame({"change_measure": ["median change"], "ci_level": [0.9]}))
    'median (90% bootstrap CI)'
    """
    from helpers.outcomes import EFFECT_NAMES  # the names the comparison table uses

    measures = set(est["change_measure"].dropna()) if "change_measure" in est else set()
    measure = measures.pop() if len(measures) == 1 else None
    if measure not in EFFECT_NAMES or "; " not in EFFECT_NAMES[measure]:
        return f"estimate ({_level(est)} CI)"
    interval = EFFECT_NAMES[measure].split("; ", 1)[1]
    short = _SHORT_INTERVALS.get(interval, interval)
    # "mean", "median": the axis says it is the change
    return f"{measure.split()[0]} ({_level(est)} {short})"


#: A legend's names of the change intervals (:data:`helpers.outcomes.EFFECT_NAMES`' words are
#: longer than a legend inside a panel takes without covering the data).
_SHORT_INTERVALS = {
    "t interval": "t CI",
    "percentile bootstrap CI": "bootstrap CI",
    "distribution-free order-statistic CI": "order-statistic CI",
}


def _outcome_panels(
    outcomes: Sequence[str], draw: Callable[[str, Axes], object], study: Study | None
) -> Figure:
    """Lay out one panel per outcome, titled with its name, and draw each."""
    fig, axes = plt.subplots(
        1, len(outcomes), figsize=(4.4 * len(outcomes), 3.8), layout="constrained", squeeze=False
    )
    for ax, code in zip(axes[0], outcomes, strict=True):
        draw(code, ax)
        ax.set_title(label_for(code, study, unit=False))
    return fig


def trajectories_figure(
    data: pd.DataFrame,
    means: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    study: Study | None = None,
) -> Figure:
    """One trajectory panel per outcome (:func:`plot_trajectories`).

    Parameters
    ----------
    data, means : pandas.DataFrame
    outcomes : sequence of str
    study : Study, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from helpers.simulate import simulate_cohort
    >>> from helpers.study import load_study
    >>> STUDY = load_study("data/study.yaml")
    >>> from helpers.outcomes import visit_means_ci
    >>> from helpers.study import load_study
    >>> m = simulate_cohort(4, study=load_study("data/study.yaml")).measurements
    >>> len(trajectories_figure(m, visit_means_ci(m), outcomes=["hba1c", "leptin"]).axes)
    2
    """
    each = _patients_in(data, outcomes) <= PER_PATIENT_LIMIT  # one choice for every panel
    return _outcome_panels(
        outcomes,
        lambda code, ax: plot_trajectories(
            data, means, outcome=code, study=study, ax=ax, per_patient=each
        ),
        study,
    )


def changes_figure(
    changes: pd.DataFrame,
    comparisons: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    study: Study | None = None,
) -> Figure:
    """One change-from-baseline panel per outcome (:func:`plot_changes`).

    Parameters
    ----------
    changes, comparisons : pandas.DataFrame
    outcomes : sequence of str
    study : Study, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from helpers.simulate import simulate_cohort
    >>> from helpers.study import load_study
    >>> STUDY = load_study("data/study.yaml")
    >>> from helpers.outcomes import change_from_baseline, compare_to_baseline
    >>> from helpers.study import load_study
    >>> m = simulate_cohort(5, study=load_study("data/study.yaml")).measurements
    >>> cmp = compare_to_baseline(m, sensitivity=None)
    >>> len(changes_figure(change_from_baseline(m), cmp, outcomes=["hba1c"]).axes)
    1
    """
    each = _patients_in(changes, outcomes) <= PER_PATIENT_LIMIT  # one choice for every panel
    return _outcome_panels(
        outcomes,
        lambda code, ax: plot_changes(
            changes, comparisons, outcome=code, study=study, ax=ax, per_patient=each
        ),
        study,
    )


def plot_equivalence(
    safety: pd.DataFrame, *, study: Study | None = None, ax: Axes | None = None
) -> Axes:
    """Each antibody's mean change with its intervals, against its ±margin.

    The thick bar is the (1 − 2α) interval that equivalence at level α needs
    inside the margin; the thin one the two-sided confidence interval. Both are
    unadjusted, so each row's label also gives the verdict after adjustment
    for multiplicity (``equivalent``, ``p_equivalence_adj``), which a bar
    inside the margin may not have.

    Parameters
    ----------
    safety : pandas.DataFrame
        From :func:`helpers.safety.safety_analysis` (drawn as is).
    study : Study, optional
        Labels of the outcomes.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> s = pd.DataFrame({"outcome": ["gad_ab"], "visit_month": [3], "mean_change": [1.0],
    ...     "ci_low": [-1.0], "ci_high": [3.0], "tost_ci_low": [-0.5], "tost_ci_high": [2.5],
    ...     "margin": [5.0], "alpha": [0.05], "ci_level": [0.95]})
    >>> fig, ax = plt.subplots()
    >>> plot_equivalence(s, ax=ax).get_xlabel()
    'Change from baseline (in each antibody unit)'
    >>> plt.close(fig)
    """
    ax = ax or plt.gca()
    rows = safety.dropna(subset=["mean_change"]).reset_index(drop=True)
    if rows.empty:
        return _no_data(ax, "no antibody could be compared with baseline")
    alphas = set(rows["alpha"])
    if len(alphas) != 1:
        raise ValueError(f"the safety table must carry one alpha, found {sorted(alphas)}")
    alpha = float(alphas.pop())
    tost_level, two_sided = format_percent(1 - 2 * alpha), _level(rows)
    labels = [
        f"{label_for(r.outcome, study, unit=False)}, month {r.visit_month}" + _verdict(r)
        for r in rows.itertuples()
    ]
    y = list(range(len(rows)))[::-1]
    for yi, r in zip(y, rows.itertuples(), strict=True):
        ax.plot(
            [-r.margin, r.margin],
            [yi, yi],
            color="#2a7f62",
            alpha=0.25,
            linewidth=14,
            solid_capstyle="butt",
            label="±margin" if yi == y[0] else None,
        )
        ax.plot(
            [r.ci_low, r.ci_high],
            [yi, yi],
            color="#333333",
            linewidth=1.2,
            label=f"two-sided {two_sided} CI" if yi == y[0] else None,
        )
        ax.plot(
            [r.tost_ci_low, r.tost_ci_high],
            [yi, yi],
            color="#333333",
            linewidth=4,
            label=f"{tost_level} CI, unadjusted (equivalence at α = {alpha:g})"
            if yi == y[0]
            else None,
        )
        ax.plot(
            r.mean_change,
            yi,
            "o",
            color="#c4452b",
            markersize=8,
            label="mean change" if yi == y[0] else None,
        )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    units = {study.unit(str(o)) for o in rows["outcome"]} if study is not None else set()
    ax.set(
        xlabel="Change from baseline "
        + (f"({units.pop()})" if len(units) == 1 else "(in each antibody unit)"),
        title="Did antibodies rise? Change against the equivalence margin",
    )
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    return ax


def _verdict(row: Any) -> str:
    """Give the verdict after adjustment a reader needs beside the unadjusted bar."""
    if getattr(row, "equivalent", None) is None or pd.isna(row.equivalent):
        return ""
    shown = "shown" if bool(row.equivalent) else "not shown"
    p = getattr(row, "p_equivalence_adj", math.nan)
    return f"\nequivalence {shown} after adjustment" + (
        "" if pd.isna(p) else f" (p = {format_p(float(p))})"
    )


def equivalence_figure(safety: pd.DataFrame, *, study: Study | None = None) -> Figure:
    """Figure of :func:`plot_equivalence`, sized to the number of rows.

    Parameters
    ----------
    safety : pandas.DataFrame
    study : Study, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> s = pd.DataFrame({"outcome": ["gad_ab"], "visit_month": [3], "mean_change": [1.0],
    ...     "ci_low": [-1.0], "ci_high": [3.0], "tost_ci_low": [-0.5], "tost_ci_high": [2.5],
    ...     "margin": [5.0], "alpha": [0.05], "ci_level": [0.95]})
    >>> len(equivalence_figure(s).axes)
    1
    """
    n = max(int(safety["mean_change"].notna().sum()), 1)
    fig, ax = plt.subplots(figsize=(8.5, 1.1 * n + 1.8), layout="constrained")
    plot_equivalence(safety, study=study, ax=ax)
    if ax.get_title():  # over the whole figure, not over the axes beside the long row labels
        fig.suptitle(ax.get_title())
        ax.set_title("")
    return fig


def patient_antibody_figure(
    patients: pd.DataFrame,
    *,
    cutoffs: Mapping[str, float],
    outcomes: Sequence[str],
    study: Study | None = None,
) -> Figure:
    """Per patient, baseline to follow-up, coloured by what happened at the assay cut-off.

    Parameters
    ----------
    patients : pandas.DataFrame
        From :func:`helpers.safety.patient_changes` (drawn as is).
    cutoffs : mapping of str to float
    outcomes : sequence of str
    study : Study, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["gad_ab"], "baseline_month": [0], "visit_month": [3],
    ...     "patient_id": ["a"],
    ...     "baseline_value": [8.0], "value": [12.0], "crossing": ["became positive"],
    ...     "rose_meaningfully": [True]})
    >>> len(patient_antibody_figure(t, cutoffs={"gad_ab": 10.0}, outcomes=["gad_ab"]).axes)
    1
    """
    each = _patients_in(patients, outcomes) <= PER_PATIENT_LIMIT  # one choice for every panel
    fig = _outcome_panels(
        outcomes,
        lambda code, ax: plot_patient_antibodies(
            patients, cutoff=cutoffs[code], outcome=code, study=study, ax=ax, per_patient=each
        ),
        study,
    )
    if each:  # a legend inside a panel covers patients' lines: one for all, under the panels
        _one_legend_below(fig, order=[*_CROSSING_COLOURS, _CUTOFF, _MEANINGFUL])
    return fig


def _one_legend_below(fig: Figure, *, order: Sequence[str]) -> None:
    """Gather the panels' legends into one under them, entries in ``order`` (others last)."""
    entries: dict[str, Artist] = {}
    for ax in fig.axes:
        if ax.get_legend() is None:
            continue
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(text, handle)
        ax.get_legend().remove()
    if not entries:
        return
    rank = {text: i for i, text in enumerate(order)}
    texts = sorted(entries, key=lambda t: rank.get(t, len(rank)))
    fig.legend([entries[t] for t in texts], texts, loc="outside lower center", frameon=False,
               ncols=min(len(texts), 3), fontsize="small")  # fmt: skip


#: Legend entries of the antibody figure besides the kinds of crossing.
_CUTOFF, _MEANINGFUL = "cut-off", "dashed: meaningful rise"

_CROSSING_COLOURS = {
    "became positive": "#c4452b",
    "became negative": "#2a7f62",
    "stayed positive": "#7a7a7a",
    "stayed negative": "#b5b5b5",
}


def plot_patient_antibodies(
    patients: pd.DataFrame,
    *,
    cutoff: float,
    outcome: str,
    study: Study | None = None,
    ax: Axes | None = None,
    per_patient: bool | None = None,
) -> Axes:
    """Each patient's antibody level, baseline to follow-up, coloured by cut-off crossing.

    Dashed lines mark rises larger than the meaningful amount. Above
    :data:`PER_PATIENT_LIMIT` patients, bars count the patients of each kind of
    crossing at each visit (the per-patient table, counted) in place of lines.

    Parameters
    ----------
    patients : pandas.DataFrame
        From :func:`helpers.safety.patient_changes` (drawn as is).
    cutoff : float
        The assay's positivity cut-off, drawn as a dotted line.
    outcome : str
    study : Study, optional
        Labels of the outcome and the time axis.
    ax : matplotlib Axes, optional
    per_patient : bool, optional
        Draw each patient (``True``) or their distribution (``False``); by
        default, each patient when this panel has at most
        :data:`PER_PATIENT_LIMIT` of them (the figure-level functions decide
        once for all their panels).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from helpers.study import load_study
    >>> t = pd.DataFrame({"outcome": ["gad_ab"], "baseline_month": [0], "visit_month": [3],
    ...     "patient_id": ["a"],
    ...     "baseline_value": [8.0], "value": [12.0], "crossing": ["became positive"],
    ...     "rose_meaningfully": [True]})
    >>> fig, ax = plt.subplots()
    >>> plot_patient_antibodies(t, cutoff=10.0, outcome="gad_ab",
    ...                         study=load_study("data/study.yaml"), ax=ax).get_ylabel()
    'IU/mL'
    >>> plt.close(fig)
    """
    ax = ax or plt.gca()
    sub = patients[patients["outcome"] == outcome]
    if sub.empty:
        return _no_data(ax, "no patient measured at baseline and later")
    if not _each_patient(per_patient, sub["patient_id"].nunique()):
        return _crossing_counts(sub, outcome=outcome, study=study, ax=ax)
    for kind, colour in _CROSSING_COLOURS.items():
        part = sub[sub["crossing"] == kind]
        for r in part.itertuples():
            ax.plot(
                [r.baseline_month, r.visit_month],
                [r.baseline_value, r.value],
                color=colour,
                marker="o",
                linestyle="--" if r.rose_meaningfully else "-",
            )
        if len(part):  # the legend's entry is solid, whichever line came first
            ax.plot([], [], color=colour, marker="o", label=kind)
    ax.axhline(cutoff, color="black", linewidth=0.9, linestyle=":", label=_CUTOFF)
    ax.plot([], [], color="black", linestyle="--", label=_MEANINGFUL)
    ax.set_xticks(sorted(set(sub["baseline_month"]) | set(sub["visit_month"])))
    # the panel's title names the outcome; the axis says its unit, so no label outgrows a panel
    unit = study.unit(outcome) if study is not None else ""
    ax.set(xlabel=_time_label(study), ylabel=unit or label_for(outcome, study))
    ax.legend(loc="best", frameon=False, fontsize=7)
    return ax


def _crossing_counts(sub: pd.DataFrame, *, outcome: str, study: Study | None, ax: Axes) -> Axes:
    """Bars: how many patients became or stayed positive or negative at each visit."""
    present = set(sub["crossing"].unique().tolist())  # once, not element by element per kind
    kinds = [k for k in _CROSSING_COLOURS if k in present]
    sns.countplot(
        data=sub,
        x="visit_month",
        hue="crossing",
        hue_order=kinds,
        palette=_CROSSING_COLOURS,
        ax=ax,
    )
    ax.set(xlabel=_time_label(study), ylabel="Patients")
    _headroom(ax)
    ax.legend(title="at the cut-off", frameon=False, fontsize=7, title_fontsize=7, ncols=2,
              loc="upper center")  # fmt: skip
    return ax


def _each_patient(per_patient: bool | None, patients: int) -> bool:
    """Whether a panel draws each patient: as asked, else up to :data:`PER_PATIENT_LIMIT`."""
    return patients <= PER_PATIENT_LIMIT if per_patient is None else per_patient


def _patients_in(data: pd.DataFrame, outcomes: Sequence[str]) -> int:
    """Patients with a row for any of the outcomes (the most any panel of a figure shows)."""
    return int(data.loc[data["outcome"].isin(outcomes), "patient_id"].nunique())


def _headroom(ax: Axes, share: float = 0.35) -> None:
    """Raise the top of the y axis so that a legend finds room above what is drawn."""
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + share * (high - low))


def plot_power_curves(
    curves: pd.DataFrame,
    *,
    outcome: str,
    target: float,
    ax: Axes | None = None,
    legend: bool = False,
) -> Axes:
    """Power against patients analysed for one outcome: a line per design and planning effect.

    The patients axis is logarithmic, labelled at round numbers (5, 10, 20, 50, ...) and at the
    curves' end; it has no unlabelled minor ticks.

    Parameters
    ----------
    curves : pandas.DataFrame
        From :func:`helpers.design.power_curves` (codes, not labels).
    outcome : str
    target : float
        The target power, drawn as a horizontal line.
    ax : matplotlib.axes.Axes, optional
    legend : bool, default False

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> c = pd.DataFrame({"outcome": "x", "basis": "observed", "design": "single_arm",
    ...     "test": "t", "n": [5, 10], "power": [0.3, 0.6]})
    >>> fig, ax = plt.subplots()
    >>> plot_power_curves(c, outcome="x", target=0.8, ax=ax).get_xlabel()
    'Patients analysed (per arm for two arms)'
    >>> plt.close(fig)
    """
    from helpers.choices import DESIGN_BASES as BASES
    from helpers.choices import DESIGNS, basis_words, design_words

    ax = ax if ax is not None else plt.gca()
    data = curves[curves["outcome"] == outcome]
    if data.empty:
        return _no_data(ax, "no effect to plan on")
    levels = data["ci_level"] if "ci_level" in data else pd.Series(None, index=data.index)
    words = {b: basis_words(b, lv) for b, lv in zip(data["basis"], levels, strict=True)}
    if "test" not in data:
        raise ValueError("power curves need a test column: a design is named with its test")
    # each design named with the test it is analysed with (the curves' own)
    named = {
        (d, t): design_words(d, t, brief=True)
        for d, t in zip(data["design"], data["test"], strict=True)
    }
    data = data.assign(
        Design=[named[key] for key in zip(data["design"], data["test"], strict=True)],
        Effect=data["basis"].map(words),
    )
    # one power per n on each curve: drawn as it is (estimator=None), not aggregated per n
    sns.lineplot(
        data=data, x="n", y="power", hue="Design", style="Effect", ax=ax, legend=legend,
        estimator=None, errorbar=None,
        hue_order=[w for d in DESIGNS for (e, _), w in named.items() if e == d],
        style_order=[words[b] for b in BASES if b in words],
    )  # fmt: skip
    # dash-dot: the effects' curves are solid, dashed and dotted (seaborn's first three dashes)
    ax.axhline(target, color="0.4", linewidth=0.8, linestyle="-.")
    ax.set_xscale("log")
    top = int(data["n"].max())
    ticks = [t for t in (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if t <= top]
    if not ticks or top >= 1.5 * ticks[-1]:  # the curves' end, where no round tick is near it
        ticks.append(top)
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(ticker.ScalarFormatter())
    # the labelled 1-2-5 ticks mark the log scale; the log locator's minor ticks (2-9 in each
    # decade) would only repeat them, and made drawing the figure twice as slow
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.set_ylim(0, 1)
    ax.set_xlabel("Patients analysed (per arm for two arms)")
    ax.set_ylabel("Power")
    return ax


def power_curve_figure(
    curves: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    target: float,
    alpha: float,
    study: Study | None = None,
    ncols: int = 3,
) -> Figure:
    """Power curves of every outcome, a panel each, with one legend for the figure.

    Parameters
    ----------
    curves : pandas.DataFrame
        From :func:`helpers.design.power_curves`.
    outcomes : sequence of str
    target, alpha : float
        Target power (dash-dot line) and two-sided α, stated in the legend.
    study : Study, optional
    ncols : int, default 3

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> c = pd.DataFrame({"outcome": "x", "basis": "observed", "design": "single_arm",
    ...     "test": "t", "n": [5, 10], "power": [0.3, 0.6]})
    >>> len(power_curve_figure(c, outcomes=["x"], target=0.8, alpha=0.05).axes)
    1
    >>> power_curve_figure(c.iloc[:0], outcomes=[], target=0.8, alpha=0.05).axes[0].texts[0]
    Text(0.5, 0.5, 'no outcome has a change to plan for')
    """
    if not outcomes:
        fig, ax = plt.subplots(figsize=(4.2, 2.0), layout="constrained")
        _no_data(ax, "no outcome has a change to plan for")
        return fig
    ncols = max(1, min(ncols, len(outcomes)))
    nrows = math.ceil(len(outcomes) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows + 1.0), layout="constrained",
        squeeze=False, sharey=True,
    )  # fmt: skip
    for k, ax in enumerate(axes.flat):
        if k >= len(outcomes):
            ax.set_visible(False)
            continue
        plot_power_curves(curves, outcome=outcomes[k], target=target, ax=ax, legend=k == 0)
        ax.set_title(label_for(outcomes[k], study, unit=False))
    first = axes.flat[0]
    if first.get_legend() is not None:
        handles, labels = first.get_legend_handles_labels()
        first.get_legend().remove()
        handles.append(plt.Line2D([], [], color="0.4", linewidth=0.8, linestyle="-."))
        labels.append(f"target power {format_percent(target)}, two-sided α = {alpha:g}")
        fig.legend(handles, labels, loc="outside lower center", ncols=3, frameon=False)
    return fig
