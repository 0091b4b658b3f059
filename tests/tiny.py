"""Tiny notebooks made by the tests (each costs a kernel start and little else), what a
reader sees in an executed notebook, and what a report's figure files record."""

from __future__ import annotations

from pathlib import Path

import nbformat


def parameter_set(tmp_path: Path, name: str, text: str) -> Path:
    """Write ``tmp_path/params/name.yaml`` with ``text``; return the folder (``params_dir``)."""
    directory = tmp_path / "params"
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.yaml").write_text(text)
    return directory


def notebook(folder: Path, name: str, body: str, *more: str, parameters: str | None = None) -> Path:
    """Write ``folder/name.ipynb``: a code cell (and one for each of ``more``), after a tagged
    parameters cell if given."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cells = []
    if parameters is not None:
        cells.append(nbformat.v4.new_code_cell(parameters))
        cells[0].metadata["tags"] = ["parameters"]
    nb.cells = [*cells, *(nbformat.v4.new_code_cell(source) for source in (body, *more))]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def shown(notebook: Path) -> str:
    """Everything a reader sees in an executed notebook's outputs: text, tables, alt texts."""
    nb = nbformat.read(notebook, as_version=4)
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts += [str(data.get(k, "")) for k in ("text/plain", "text/markdown")]
            parts.append(str(output.get("metadata", {}).get("image/png", {}).get("alt", "")))
    return "\n".join(parts)


def contents(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by its path relative to it, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def figure_files(folder: Path) -> list[str]:
    """The figure files (PNG and SVG) in a folder: a report's ``tables/``, a site's ``_images/``."""
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".png", ".svg"))


def png_description(png: Path | bytes) -> str | None:
    """A PNG's recorded description, its ``tEXt`` chunk read by Pillow (None if it has none)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png) if isinstance(png, bytes) else png) as image:
        return image.info.get("Description")


def file_labels(folder: Path) -> dict[str, str | None]:
    """Each figure file's recorded description: the PNG's (:func:`png_description`), the
    SVG's Dublin Core ``dc:description`` read by ElementTree (None where there is none)."""
    from xml.etree import ElementTree

    found: dict[str, str | None] = {}
    for name in figure_files(folder):
        path = folder / name
        if path.suffix == ".png":
            found[name] = png_description(path)
        else:
            element = ElementTree.parse(path).find(
                ".//{http://purl.org/dc/elements/1.1/}description"
            )
            found[name] = None if element is None else element.text
    return found


def image_labels(notebook: Path) -> list[str | None]:
    """The recorded description of each PNG a notebook shows, in order."""
    import base64

    return [
        png_description(base64.b64decode(output["data"]["image/png"]))
        for cell in nbformat.read(notebook, as_version=4).cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
