"""Every figure of the default run fits its canvas: no text cut off, no label over another panel."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backend_bases import FigureCanvasBase
from studydef import STUDY

from helpers import figures as hf
from helpers import outcomes as ho
from helpers import safety as hs
from helpers.audit import audit
from helpers.data import load_cohort
from helpers.reported import load_reported
from helpers.reproduction import reachability_matrix
from helpers.simulate import simulate_cohort

from conftest import REPORTED, STANDIN
from recompute import grouped


def _figures():
    hf.set_theme()
    cohort = load_cohort(STANDIN, study=STUDY)
    m = cohort.measurements
    glycemic, antibodies = ["insulin_dose", "hba1c", "leptin"], ["gad_ab", "islet_ab"]
    means = ho.visit_means_ci(m, outcomes=glycemic)
    comparisons = ho.compare_to_baseline(m, outcomes=glycemic, n_boot=200)
    changes = ho.change_from_baseline(m, outcomes=glycemic)
    cutoffs = {"gad_ab": 10.0, "islet_ab": 10.0}
    visits = list(STUDY.visit_months)
    patients = hs.patient_changes(
        m,
        outcomes=antibodies,
        visits=visits,
        cutoffs=cutoffs,
        meaningful_rise={"gad_ab": "50%", "islet_ab": "50%"},
    )
    margins = {"gad_ab": 5.0, "islet_ab": 5.0}
    safety = hs.safety_analysis(m, outcomes=antibodies, visits=visits, margins=margins)
    return {
        "cohort": hf.cohort_figure(cohort.patients, study=STUDY),
        "trajectories": hf.trajectories_figure(m, means, outcomes=glycemic, study=STUDY),
        "changes": hf.changes_figure(changes, comparisons, outcomes=glycemic, study=STUDY),
        "antibodies": hf.patient_antibody_figure(
            patients, cutoffs=cutoffs, outcomes=antibodies, study=STUDY
        ),
        "equivalence": hf.equivalence_figure(safety, study=STUDY),
        "reachability": hf.reachability_figure(reachability_matrix(audit(load_reported(REPORTED)))),
    }


NAMES = ["cohort", "trajectories", "changes", "antibodies", "equivalence", "reachability"]


@pytest.fixture(scope="module")
def figures():
    import matplotlib.pyplot as plt

    made = _figures()
    yield made
    for fig in made.values():
        plt.close(fig)


@pytest.mark.slow  # draws every figure of the notebooks
@pytest.mark.parametrize("name", NAMES)
def test_no_text_is_cut_off_or_over_another_panel(figures, name):
    _check_layout(figures[name], name)


@pytest.mark.slow  # 0.3 s or more alone (make check leaves it to make test)
def test_whole_number_characteristics_get_whole_ticks():
    """Culture time is 3 or 4 weeks and cells 95–97 million: no tick at 3.2 weeks or 95.5."""
    hf.set_theme()
    patients = load_cohort(STANDIN, study=STUDY).patients
    fig = hf.cohort_figure(patients, study=STUDY)
    hf.settle_layout(fig)
    for ax in fig.axes:
        column = {c.label: c.code for c in STUDY.characteristics}[ax.get_title()]
        values = patients[column].dropna()
        if (values == values.round()).all():
            lo, hi = ax.get_xlim()
            shown = [t for t in ax.get_xticks() if lo <= t <= hi]
            assert len(shown) >= 2, column
            assert all(float(t).is_integer() for t in shown), (column, shown)
    plt.close(fig)


def test_the_equivalence_figure_gives_each_row_its_verdict_after_adjustment():
    """The bars are unadjusted, so a bar inside the margin can sit beside "not shown": each
    row's label says the adjusted verdict and p, read here from the safety table's columns
    and printed to three decimals by hand."""
    hf.set_theme()
    m = load_cohort(STANDIN, study=STUDY).measurements
    safety = hs.safety_analysis(m, outcomes=ANTIBODIES, visits=list(STUDY.visit_months),
                                margins={"gad_ab": 5.0, "islet_ab": 2.0})  # fmt: skip
    fig = hf.equivalence_figure(safety, study=STUDY)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]  # as set: the first row at the top
    rows = safety.dropna(subset=["mean_change"])
    assert len(labels) == len(rows) >= 2
    for text, r in zip(labels, rows.itertuples(), strict=True):
        shown = "shown" if r.equivalent else "not shown"
        assert text.endswith(
            f"equivalence {shown} after adjustment (p = {r.p_equivalence_adj:.3f})"
        )
    assert ax.get_xlabel() == "Change from baseline (IU/mL)"
    assert fig.get_suptitle().startswith("Did antibodies rise?")
    plt.close(fig)


@pytest.mark.slow  # draws every figure of the notebooks (the shared fixture)
def test_change_axes_name_the_outcome_as_a_sentence_does(figures):
    """ "Change in daily insulin dose", not "Change in Daily insulin dose"; HbA1c keeps its
    capitals (the labels typed here by hand from data/study.yaml)."""
    labels = [ax.get_ylabel() for ax in figures["changes"].axes if ax.get_ylabel()]
    assert labels == [
        "Change in daily insulin dose (U/day)", "Change in HbA1c (%)", "Change in leptin (ng/mL)",
    ]  # fmt: skip


@pytest.mark.slow  # 0.3 s or more alone (make check leaves it to make test)
def test_the_antibody_figure_draws_each_patient_and_keeps_its_legend_off_the_panels():
    """Each patient's line is their row of the per-patient table (recomputed here from the
    measurements by pandas, not by the helpers): coloured by the crossing, dashed for a
    meaningful rise. The legend, once inside a panel and over patients' lines, is one for the
    figure, under the panels, its colour entries solid."""
    from matplotlib.colors import to_hex

    hf.set_theme()
    m = load_cohort(STANDIN, study=STUDY).measurements
    # out of alphabetical order; every visit of the study
    patients = hs.patient_changes(m, outcomes=ANTIBODIES, visits=list(STUDY.visit_months),
                                  cutoffs=CUTOFFS, meaningful_rise={"gad_ab": "50%",
                                                                    "islet_ab": "50%"})  # fmt: skip
    fig = hf.patient_antibody_figure(patients, cutoffs=CUTOFFS, outcomes=ANTIBODIES, study=STUDY)
    colours = {"became positive": "#c4452b", "became negative": "#2a7f62",
               "stayed positive": "#7a7a7a", "stayed negative": "#b5b5b5"}  # fmt: skip
    wide = m.pivot_table(index=["outcome", "patient_id"], columns="visit_month", values="value")
    for ax, code in zip(fig.axes, ANTIBODIES, strict=True):
        assert ax.get_legend() is None
        drawn = sorted(
            (
                tuple(ln.get_xdata()),
                tuple(ln.get_ydata()),
                to_hex(ln.get_color()),
                ln.get_linestyle(),
            )
            for ln in ax.lines
            if len(ln.get_xdata()) == 2 and ln.get_linestyle() in ("-", "--")
        )
        want = []
        for (outcome, _), row in wide.loc[[code]].iterrows():
            for visit in STUDY.visit_months[1:]:
                before, after = row[0], row.get(visit, np.nan)
                if np.isnan(before) or np.isnan(after):
                    continue
                cut = CUTOFFS[outcome]
                kind = ("stayed" if (before >= cut) == (after >= cut) else "became") + (
                    " positive" if after >= cut else " negative"
                )
                dashed = after - before > 0.5 * before
                want.append(((0, visit), (before, after), colours[kind], "--" if dashed else "-"))
        assert drawn == sorted(want), code
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    present = [k for k in colours if k in set(patients["crossing"])]
    assert texts == [*present, "cut-off", "dashed: meaningful rise"]
    for handle, text in zip(legend.legend_handles, texts, strict=True):
        if text in colours:
            assert handle.get_linestyle() == "-", text
    hf.settle_layout(fig)  # laid out as shown and written
    renderer = fig.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent(renderer))
    plt.close(fig)


def _check_layout(fig: plt.Figure, name: str) -> None:
    """Assert that nothing drawn is cut off and no axis label lies over another panel."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    # everything drawn (texts, legends, tick labels in view) lies on the canvas
    drawn = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)
    assert drawn.x0 >= canvas.x0 - 1, f"{name}: cut off at the left"
    assert drawn.y0 >= canvas.y0 - 1, f"{name}: cut off at the bottom"
    assert drawn.x1 <= canvas.x1 + 1, f"{name}: cut off at the right"
    assert drawn.y1 <= canvas.y1 + 1, f"{name}: cut off at the top"
    for ax in fig.axes:
        for label in (ax.xaxis.label, ax.yaxis.label):
            if not label.get_text():
                continue
            box = label.get_window_extent(renderer)
            for other in fig.axes:
                if other is not ax:
                    assert not box.overlaps(other.get_window_extent(renderer)), (
                        f"{name}: {label.get_text()!r} lies over another panel"
                    )


def test_the_check_would_catch_a_clipped_label():
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(4, 2))
    b.set_ylabel("a label far too long to fit between the two panels of this figure")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert b.yaxis.label.get_window_extent(renderer).overlaps(a.get_window_extent(renderer))
    plt.close(fig)


def _labelled_figure(**kwargs) -> plt.Figure:
    """Two panels with long labels, which constrained layout must move apart."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(5, 2.5), layout="constrained", **kwargs)
    for ax in (a, b):
        ax.plot([0, 1, 2], [10_000, 20_000, 15_000], label="a series")
        ax.set_xlabel("months after the infusion")
        ax.set_ylabel("a long label of the y axis")
        ax.legend()
    fig.suptitle("a title")
    return fig


def _positions(fig: plt.Figure) -> list[list[float]]:
    return [list(ax.get_position().bounds) for ax in fig.axes]


@pytest.mark.slow
def test_the_layout_is_settled_once_at_screen_resolution_and_kept():
    """settle_layout: constrained layout's own positions at SCREEN_DPI, then never again."""
    # matplotlib alone: a figure laid out by its engine at the screen resolution
    reference = _labelled_figure(dpi=hf.SCREEN_DPI)
    unlaid = _positions(reference)
    reference.draw_without_rendering()
    expected = _positions(reference)
    assert expected != unlaid  # the labels moved the panels: a layout that did something
    for dpi in (hf.SCREEN_DPI, 72, 200):  # whatever the figure's own resolution
        fig = _labelled_figure(dpi=dpi)
        assert hf.settle_layout(fig) is fig
        assert fig.get_layout_engine() is None
        assert fig.dpi == dpi
        assert _positions(fig) == expected, dpi
        fig.savefig(io.BytesIO(), format="png", dpi=hf.PRINT_DPI, bbox_inches="tight")
        fig.savefig(io.BytesIO(), format="svg")
        assert _positions(fig) == expected, f"{dpi}: laid out again by savefig"
        hf.settle_layout(fig)  # settling a settled figure changes nothing
        assert _positions(fig) == expected
        plt.close(fig)
    plt.close(reference)
    # a user's rcParams asking for a layout engine on every figure do not put one back
    with plt.rc_context({"figure.constrained_layout.use": True}):
        fig = _labelled_figure()
        assert hf.settle_layout(fig).get_layout_engine() is None
        assert _positions(fig) == expected
        plt.close(fig)
    # without a layout engine, nothing moves
    plain, _ = plt.subplots(1, 2, figsize=(5, 2.5))
    before = _positions(plain)
    assert hf.settle_layout(plain).get_layout_engine() is None
    assert _positions(plain) == before
    plt.close(plain)


@pytest.mark.slow
@pytest.mark.parametrize("data_label", [None, "STAND-IN DATA — RECONSTRUCTED, NOT PATIENT RECORDS"])
def test_no_file_cuts_a_long_label_at_the_figure_s_edge(tmp_path, data_label):
    """Text measures wider at 300 dpi, and in SVG, than at the 100 dpi of the layout.

    The label below is 0.07 inch wider in the PNG than at 100 dpi, more than the 0.05-inch
    margin: a box measured once at 100 dpi for both files cut its first letter off. Each
    file's box is measured at its own resolution, so the PNG keeps a white margin on every
    side and no text of the SVG starts outside its canvas; so does the data's label printed
    under the figure.
    """
    import re

    from PIL import Image

    label = (
        "Islet-cell (Langerhans) antibodies and glutamic acid decarboxylase antibodies, month 12"
    )
    hf.set_theme()  # tick labels of 11 points
    fig, ax = plt.subplots(figsize=(8.5, 2.5), layout="constrained")
    ax.plot([0, 1], [0, 1])
    ax.set_yticks([0.5], [label])
    hf.save_figures({"edge": fig}, tmp_path, prefix="t", label=data_label)
    plt.close(fig)
    with Image.open(tmp_path / "t_edge.png") as image:
        pixels = np.asarray(image.convert("L"))
    rows, cols = np.nonzero(pixels < 250)  # anything darker than the white background
    margin = int(0.02 * hf.PRINT_DPI)  # white on every side (the margin is 0.05 inch)
    assert cols.min() >= margin, cols.min()
    assert rows.min() >= margin, rows.min()
    assert pixels.shape[1] - 1 - cols.max() >= margin
    assert pixels.shape[0] - 1 - rows.max() >= margin
    svg = (tmp_path / "t_edge.svg").read_text(encoding="utf-8")
    width, height = (float(svg.split(f'{key}="')[1].split("pt")[0]) for key in ("width", "height"))
    # each text is a group of glyphs placed at the start of its baseline: translate(x y),
    # maybe a rotation, then the font's scale (the glyphs' own offsets are in font units)
    placed = r"translate\(([-\d.]+) ([-\d.]+)\) (?:rotate\([-\d.]+\) )?scale\("
    origins = [(float(x), float(y)) for x, y in re.findall(placed, svg)]
    assert len(origins) >= 3 + (data_label is not None)  # the tick labels (and the label)
    assert all(0 <= x <= width and 0 <= y <= height for x, y in origins), min(origins)


@pytest.mark.slow
def test_the_data_label_is_under_the_figure_in_its_files_and_in_their_metadata(tmp_path):
    """A figure file travels without its notebook: the data's label is printed under the
    figure (the PNG grows downward by a line of ink the unlabelled file does not have) and
    recorded as the files' description, and the figure itself is left without it."""
    from PIL import Image

    hf.set_theme()
    label = "STAND-IN DATA — RECONSTRUCTED, NOT PATIENT RECORDS"
    fig, ax = plt.subplots(figsize=(3, 2), layout="constrained")  # narrower than the label
    ax.plot([0, 1], [0, 1])
    plain = hf.save_figures({"f": fig}, tmp_path / "plain", prefix="t", label=None)
    labelled = hf.save_figures({"f": fig}, tmp_path / "labelled", prefix="t", label=label)
    again = hf.save_figures({"f": fig}, tmp_path / "again", prefix="t", label=None)
    assert fig.texts == []
    plt.close(fig)
    files = {
        key: [(tmp_path / name).read_bytes() for name in names]
        for key, names in (("plain", plain), ("labelled", labelled), ("again", again))
    }
    assert files["again"] == files["plain"]  # the figure was left as it was

    images = {}
    for key in ("plain", "labelled"):
        with Image.open(tmp_path / key / "t_f.png") as image:
            images[key] = np.asarray(image.convert("L"))
            description = image.info.get("Description")
        assert description == (label if key == "labelled" else None)
    plain_px, labelled_px = images["plain"], images["labelled"]
    # as wide as the figure (the label is wrapped at its width), and taller by at least a line
    # of 8-point text (33 px at 300 dpi), with ink below the unlabelled file's height
    rows, cols = plain_px.shape
    assert labelled_px.shape[1] <= cols + 0.1 * hf.PRINT_DPI
    assert labelled_px.shape[0] - rows >= 25
    ink = np.nonzero((labelled_px[rows:] < 128).any(axis=1))[0]
    assert len(ink) >= 15, "no text under the figure"

    svg_plain = (tmp_path / "plain" / "t_f.svg").read_text(encoding="utf-8")
    svg = (tmp_path / "labelled" / "t_f.svg").read_text(encoding="utf-8")
    assert f"<dc:description>{label}</dc:description>" in svg
    assert "dc:description" not in svg_plain
    height = {k: float(v.split('height="')[1].split("pt")[0]) for k, v in
              (("plain", svg_plain), ("labelled", svg))}  # fmt: skip
    assert height["labelled"] > height["plain"] + 6  # a line of 8-point text


@pytest.mark.slow
def test_the_data_label_stays_clear_of_a_legend_below_the_axes(tmp_path):
    """A figure legend below the axes (notebook 05's power curves) is anchored to the figure's
    box, which the tight box replaces while a file is written: it once moved down onto the
    label. In the PNG, the label is the last band of ink, a clear line below the legend's; and
    the legend keeps its place under the axes, as in the unlabelled file."""
    from PIL import Image

    hf.set_theme()
    fig, axes = plt.subplots(1, 2, figsize=(6, 3), layout="constrained")
    for ax in axes:
        ax.plot([0, 1], [0, 1], label="single-arm replication")
        ax.plot([0, 1], [1, 0], label="randomised two-arm trial")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=1)
    # as in a kernel, where a figure shown inline is left with the base canvas (no renderer
    # of its own: asking it for one failed every notebook's last cell once)
    fig.set_canvas(FigureCanvasBase(fig))
    label = "STAND-IN DATA — RECONSTRUCTED, NOT PATIENT RECORDS"
    hf.save_figures({"f": fig}, tmp_path / "plain", prefix="t", label=None)
    hf.save_figures({"f": fig}, tmp_path / "labelled", prefix="t", label=label)
    plt.close(fig)

    def bands(path):  # runs of rows with ink, top to bottom: (first row, last row)
        with Image.open(path) as image:
            inked = (np.asarray(image.convert("L")) < 128).any(axis=1)
        rows = np.nonzero(inked)[0]
        breaks = np.nonzero(np.diff(rows) > 1)[0]
        return list(zip(rows[np.r_[0, breaks + 1]], rows[np.r_[breaks, -1]], strict=True))

    plain, labelled = (
        bands(tmp_path / "plain" / "t_f.png"),
        bands(tmp_path / "labelled" / "t_f.png"),
    )
    assert len(labelled) == len(plain) + 1  # the label's own band, below the rest
    gap = labelled[-1][0] - labelled[-2][1]
    assert gap >= 0.5 * hf.LABEL_POINTS / 72 * hf.PRINT_DPI, gap  # half a line of white at least
    # every band above the label (axes, tick labels, the legend's rows) where it was, to the
    # pixel (the tight box's origin falls on a fraction of one)
    assert np.abs(np.array(labelled[:-1]) - np.array(plain)).max() <= 1, (labelled, plain)


@pytest.mark.slow
def test_files_of_artists_sized_at_each_draw_are_savefig_s_own(tmp_path):
    """A legend in "expand" mode and an annotation arrow take their size from the last draw,
    at that draw's resolution; savefig's walk before measuring the tight box refreshes it. A
    box measured without that walk (tried once, for speed) cut the expanded legend off the PNG
    and widened the SVG fourfold. Each figure is made twice, fresh: save_figures' files must be
    savefig(bbox_inches="tight")'s own."""

    def make() -> plt.Figure:
        fig, axes = plt.subplots(1, 2, figsize=(6, 3), layout="constrained")
        for ax in axes:
            ax.plot([0, 1], [0, 1], label="a long legend entry")
            ax.plot([0, 1], [1, 0], label="b")
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center",
                   mode="expand", ncols=2)  # fmt: skip
        axes[1].annotate("below", xy=(0.5, 0.5), xytext=(0.5, -0.6), textcoords="axes fraction",
                         arrowprops={"arrowstyle": "->"})  # fmt: skip
        return fig

    hf.set_theme()
    written = hf.save_figures({"f": make()}, tmp_path, prefix="t", label=None)
    plt.close("all")
    fig = hf.settle_layout(make())
    for name in written:
        fmt = name.rsplit(".", 1)[1]
        options = {"png": {"dpi": hf.PRINT_DPI, "metadata": {"Software": None}},
                   "svg": {"metadata": {"Date": None, "Creator": None}}}[fmt]  # fmt: skip
        own = io.BytesIO()
        fig.savefig(own, format=fmt, bbox_inches="tight", pad_inches=0.05, **options)
        assert (tmp_path.parent / name).read_bytes() == own.getvalue(), name
    plt.close(fig)


@pytest.mark.slow
def test_a_figure_gives_the_same_files_whether_or_not_it_was_shown_first(tmp_path):
    """The notebooks show each figure (which closes it), then write it; a script may only write
    it. Both give the same layout, so the same files (with matplotlib laying the figure out at
    each rendering, the SVG of a shown figure differed from an unshown one's)."""
    hf.set_theme()
    cohort = load_cohort(STANDIN, study=STUDY)
    m = cohort.measurements
    means = ho.visit_means_ci(m, outcomes=["hba1c", "insulin_dose"])
    files = {}
    for shown in (True, False):
        fig = hf.trajectories_figure(m, means, outcomes=["hba1c", "insulin_dose"], study=STUDY)
        label = "STAND-IN DATA — RECONSTRUCTED, NOT PATIENT RECORDS"
        if shown:
            hf.show(fig, label=label)  # drawn with the label, which it leaves off the figure
        written = hf.save_figures({"t": fig}, tmp_path / str(shown), prefix="02", label=label)
        files[shown] = [(tmp_path / name).read_bytes() for name in written]
        plt.close(fig)
    assert files[True] == files[False]


@pytest.mark.slow
def test_figure_files_are_print_resolution_png_and_svg_and_stable(tmp_path):
    import matplotlib.pyplot as plt
    from PIL import Image

    hf.set_theme()
    cohort = load_cohort(STANDIN, study=STUDY)
    fresh = [hf.cohort_figure(cohort.patients, study=STUDY) for _ in range(2)]  # drawn twice
    outputs = []
    for i, fig in enumerate(fresh):
        written = hf.save_figures({"cohort": fig}, tmp_path / f"t{i}", prefix="01", label=None)
        assert written == [f"t{i}/01_cohort.png", f"t{i}/01_cohort.svg"]
        png, svg = tmp_path / f"t{i}" / "01_cohort.png", tmp_path / f"t{i}" / "01_cohort.svg"
        with Image.open(png) as image:
            assert round(image.info["dpi"][0]) == hf.PRINT_DPI
        assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
        outputs.append((png.read_bytes(), svg.read_bytes()))
    for fig in fresh:
        plt.close(fig)
    assert outputs[0] == outputs[1]


def test_reachability_figure_names_outcomes_and_tests():
    from helpers.stats import INDEPENDENT_TESTS, PAIRED_TESTS, SHORT_NAMES

    assert set(SHORT_NAMES) == set(PAIRED_TESTS) | set(INDEPENDENT_TESTS)
    matrix = pd.DataFrame(
        {"wilcoxon_exact": [True, False], "paired_t": [False, True]},
        index=["islet_ab: month 3 vs month 0", "hba1c: month 1 vs month 0"],
    )
    fig = hf.reachability_figure(matrix, study=STUDY)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Islet-cell (Langerhans) antibodies: month 3 vs month 0",
        "HbA1c: month 1 vs month 0",
    ]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Wilcoxon, exact", "paired t"]
    plt.close(fig)


# --- Above PER_PATIENT_LIMIT patients: distributions in place of patients, checked by value ---

LARGE = hf.PER_PATIENT_LIMIT + 30
GLYCEMIC, ANTIBODIES = ["leptin", "insulin_dose"], ["islet_ab", "gad_ab"]  # not alphabetical
CUTOFFS = {"gad_ab": 10.0, "islet_ab": 10.0}


@pytest.fixture(scope="module")
def large():
    hf.set_theme()
    m = simulate_cohort(LARGE, study=STUDY, seed=11).measurements
    m = m[~((m["visit_month"] == 2) & (m["patient_id"].str.endswith("7")))]  # missing visits
    means = ho.visit_means_ci(m, outcomes=GLYCEMIC)
    comparisons = ho.compare_to_baseline(m, outcomes=GLYCEMIC, n_boot=200)
    changes = ho.change_from_baseline(m, outcomes=GLYCEMIC)
    patients = hs.patient_changes(
        m,
        outcomes=ANTIBODIES,
        visits=list(STUDY.visit_months),
        cutoffs=CUTOFFS,
        meaningful_rise={"gad_ab": "50%", "islet_ab": "50%"},
    )
    made = {
        "trajectories": hf.trajectories_figure(m, means, outcomes=GLYCEMIC, study=STUDY),
        "changes": hf.changes_figure(changes, comparisons, outcomes=GLYCEMIC, study=STUDY),
        "antibodies": hf.patient_antibody_figure(
            patients, cutoffs=CUTOFFS, outcomes=ANTIBODIES, study=STUDY
        ),
    }
    yield {"m": m, "changes": changes, "patients": patients, "figures": made}
    for fig in made.values():
        plt.close(fig)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["trajectories", "changes", "antibodies"])
def test_large_cohort_figures_cut_no_text_and_draw_no_patient(large, name):
    fig = large["figures"][name]
    _check_layout(fig, f"{name} ({LARGE} patients)")
    for ax in fig.axes:  # a line per patient would be LARGE lines at least
        assert len(ax.lines) < LARGE / 2, (name, len(ax.lines))


@pytest.mark.slow  # the large cohort's figures (the shared fixture): 0.9 s
def test_large_trajectories_show_the_summary_tables_median_and_quartiles(large):
    described = ho.describe_visits(large["m"], outcomes=GLYCEMIC)
    for ax, code in zip(large["figures"]["trajectories"].axes, GLYCEMIC, strict=True):
        want = described[described["outcome"] == code].set_index("visit_month")
        (median,) = [ln for ln in ax.lines if "median" in str(ln.get_label())]
        assert f"of {grouped(LARGE)} patients" in median.get_label()
        np.testing.assert_allclose(median.get_xdata(), want.index)
        np.testing.assert_allclose(median.get_ydata(), want["median"])
        band = ax.collections[0].get_paths()[0].vertices
        for visit, row in want.iterrows():
            ys = band[np.isclose(band[:, 0], visit), 1]
            np.testing.assert_allclose([ys.min(), ys.max()], [row["q1"], row["q3"]])


@pytest.mark.slow  # the large cohort's figures (the shared fixture): 0.9 s
def test_large_changes_boxes_are_the_patients_quartiles_and_whiskers_at_each_visit(large):
    changes = large["changes"]
    for ax, code in zip(large["figures"]["changes"].axes, GLYCEMIC, strict=True):
        sub = changes[changes["outcome"] == code]
        visits = sorted(sub["visit_month"].unique())
        medians = [ln for ln in ax.lines if ln.get_gid() == "median"]
        whiskers = [ln for ln in ax.lines if ln.get_gid() == "whisker"]
        boxes = [b for b in ax.patches if b.get_gid() == "box"]
        assert len(medians) == len(boxes) == len(visits) == len(whiskers) / 2
        for i, visit in enumerate(visits):
            d = sub.loc[sub["visit_month"] == visit, "change"].to_numpy()
            q1, med, q3 = np.percentile(d, [25, 50, 75])
            low = d[d >= q1 - 1.5 * (q3 - q1)].min()  # Tukey's whiskers, by hand
            high = d[d <= q3 + 1.5 * (q3 - q1)].max()
            np.testing.assert_allclose(np.mean(medians[i].get_xdata()), visit)
            np.testing.assert_allclose(medians[i].get_ydata(), [med, med])
            box = boxes[i].get_path().vertices
            np.testing.assert_allclose([box[:, 1].min(), box[:, 1].max()], [q1, q3])
            np.testing.assert_allclose(whiskers[2 * i].get_ydata(), [q1, low])
            np.testing.assert_allclose(whiskers[2 * i + 1].get_ydata(), [q3, high])
        assert sum(len(c.get_offsets()) for c in ax.collections) < LARGE  # no point per patient


@pytest.mark.slow  # the large cohort's figures (the shared fixture): 0.9 s
def test_large_antibody_bars_count_each_kind_of_crossing(large):
    patients = large["patients"]
    for ax, code in zip(large["figures"]["antibodies"].axes, ANTIBODIES, strict=True):
        sub = patients[patients["outcome"] == code]
        counts = sub.groupby(["crossing", "visit_month"]).size()
        visits = sorted(sub["visit_month"].unique())
        assert [t.get_text() for t in ax.get_xticklabels()] == [str(v) for v in visits]
        legend = ax.get_legend()
        kinds = [t.get_text() for t in legend.get_texts()]
        assert set(kinds) == set(sub["crossing"])
        for bars, kind, handle in zip(ax.containers, kinds, legend.legend_handles, strict=True):
            # seaborn draws no bar for a visit where a kind does not occur: each bar is read
            # at the visit whose tick is nearest its centre, and the visits without one are 0
            drawn = {visits[round(b.get_x() + b.get_width() / 2)]: b.get_height() for b in bars}
            assert len(drawn) == len(bars), (code, kind)
            want = {v: counts.get((kind, v), 0) for v in visits}
            assert {v: drawn.get(v, 0) for v in visits} == want, (code, kind)
            assert bars[0].get_facecolor() == handle.get_facecolor(), (code, kind)


def test_at_the_limit_every_patient_is_still_drawn():
    m = simulate_cohort(hf.PER_PATIENT_LIMIT, study=STUDY, seed=2).measurements
    fig = hf.trajectories_figure(m, ho.visit_means_ci(m, outcomes=["hba1c"]),
                                 outcomes=["hba1c"], study=STUDY)  # fmt: skip
    assert len(fig.axes[0].lines) > hf.PER_PATIENT_LIMIT
    plt.close(fig)


def test_a_figure_draws_all_its_panels_one_way():
    """One outcome measured in fewer patients than the limit, another in more: both panels
    show distributions, so the figure does not mix patients' lines with quartiles."""
    m = simulate_cohort(hf.PER_PATIENT_LIMIT + 1, study=STUDY, seed=4).measurements
    few = m["patient_id"].isin(m["patient_id"].unique()[:2]) & (m["outcome"] == "leptin")
    m = m[~few]
    assert m.loc[m["outcome"] == "leptin", "patient_id"].nunique() < hf.PER_PATIENT_LIMIT
    fig = hf.trajectories_figure(m, ho.visit_means_ci(m, outcomes=GLYCEMIC), outcomes=GLYCEMIC,
                                 study=STUDY)  # fmt: skip
    for ax in fig.axes:
        assert any("median and IQR" in str(ln.get_label()) for ln in ax.lines)
        assert len(ax.lines) < hf.PER_PATIENT_LIMIT
    plt.close(fig)


@pytest.mark.slow  # 0.3 s or more alone (make check leaves it to make test)
def test_a_shown_figure_s_alternative_text_is_its_titles_legend_and_label(monkeypatch):
    """What a screen reader hears of a shown figure: the figure's own title (a suptitle, as the
    equivalence figure has) and each panel's, the legend's entries, then the data's label as a
    sentence of its own: one full stop before it, never two."""
    shown = []
    monkeypatch.setattr(hf, "display", lambda image, metadata: shown.append(metadata))
    label = "STAND-IN DATA — RECONSTRUCTED, NOT PATIENT RECORDS"
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1], label="mean change")
    ax.legend()
    fig.suptitle("Did antibodies rise?")
    hf.show(fig, label=label)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("HbA1c")
    hf.show(fig)
    fig, ax = plt.subplots(figsize=(3, 2))  # a title's own question mark ends its sentence
    fig.suptitle("Did antibodies rise?")
    hf.show(fig, label=label)
    alts = [m["image/png"]["alt"] for m in shown]
    assert alts == [
        f"Figure: Did antibodies rise? Legend: mean change. {label}",
        "Figure: HbA1c",
        f"Figure: Did antibodies rise? {label}",
    ]
