"""Reading the project's YAML files strictly: a key given twice is an error, not a silent overwrite.

YAML 1.1 reads ``1:20`` as the base-60 number 80; here such a value stays text,
so a rule that wants a number refuses it rather than using 80.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

__all__ = ["UniqueKeyLoader", "read_yaml"]

_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice (plain YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, refusing a key given twice and keys that are not plain names."""
        self.flatten_mapping(node)  # resolve '<<' merge keys first, as SafeLoader does
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain name", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


UniqueKeyLoader.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "-+0123456789":
    UniqueKeyLoader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:str", _SEXAGESIMAL)
    )


def read_yaml(path: str | Path) -> Any:
    """Read one YAML file with :class:`UniqueKeyLoader`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    object
        What the file holds (``None`` for an empty file).

    Raises
    ------
    OSError
        If the file cannot be read.
    UnicodeDecodeError
        If it is not UTF-8.
    yaml.YAMLError
        If it is not valid YAML or gives a key twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.yaml"
    >>> _ = p.write_text(chr(10).join(["a: 1", "b: 1:20"]))
    >>> read_yaml(p)
    {'a': 1, 'b': '1:20'}
    """
    with open(path, encoding="utf-8") as stream:  # a stream: error marks name the file
        return yaml.load(stream, Loader=UniqueKeyLoader)  # a SafeLoader subclass
