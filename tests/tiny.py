"""Tiny notebooks made by the tests (each costs a kernel start and little else), and what a
reader sees in an executed notebook."""

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
