"""The one place an input file's text is read: a size cap for every file, and one safe YAML reader.

Every input may be hostile (a careless paste or a deliberate attack), so each protection lives
here once and every reader of an input uses it (``loading`` for validation and the notebooks,
``scaffold`` and ``workbook`` for a new quarter, ``cache`` for its commentary slices):

* :func:`read_capped`: a file larger than its cap is refused before it is read, so a huge CSV
  or YAML file cannot fill the memory;
* :func:`load_yaml`: PyYAML's safe loader, with two checks it does not make itself. A key that
  appears twice in one mapping is refused (YAML keeps the second silently, so an officer's
  commentary could vanish without a word). Aliases (``*name``) are allowed, but the document
  is first composed into nodes, where an alias is a reference and not a copy, and the number
  of values it would expand to is counted without expanding it; a document that would expand
  beyond :data:`MAX_YAML_VALUES` (an "alias bomb": a few hundred bytes that grow to
  gigabytes) or that refers to itself is refused before anything is built from it.

Layer 2 (beside ``loading``): imports only PyYAML and ``errors``.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

#: Largest CSV input read (bytes). The sample's largest is 20 KB; ten years of a council's
#: scorecard stay far below this.
MAX_CSV_BYTES = 10 * 1024 * 1024
#: Largest YAML input read (bytes): commentary for hundreds of indicators stays far below it.
MAX_YAML_BYTES = 2 * 1024 * 1024
#: Most values (scalars, lists and mappings, each alias counted as what it stands for) a YAML
#: input may expand to. The sample's commentary has about 300; a ten times larger scorecard
#: written with aliases (as ``bench/synthetic.py`` does) about 6,000.
MAX_YAML_VALUES = 200_000


class TooLargeError(Exception):
    """A file is larger than its cap: ``size`` and ``limit`` in bytes."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, more than {limit}")
        self.size = size
        self.limit = limit


class YamlRefused(Exception):
    """A YAML document that parses but is refused: ``rule`` and ``fix`` in plain words, and
    the 1-based ``line`` where the problem is (None when it is the whole document)."""

    def __init__(self, rule: str, fix: str, line: int | None = None) -> None:
        super().__init__(rule)
        self.rule = rule
        self.fix = fix
        self.line = line


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def too_large_rule(exc: TooLargeError) -> str:
    """The message rule for a file over its cap."""
    return (
        f"the file is {megabytes(exc.size)}, larger than the {megabytes(exc.limit)} "
        "a scorecard input may be"
    )


def read_capped(path: Path, limit: int, encoding: str = "utf-8") -> str:
    """The text of ``path``; TooLargeError (nothing read) when it is over ``limit`` bytes.
    OSError and UnicodeDecodeError pass through for the caller to word."""
    with open(path, "rb") as fh:
        size = Path(path).stat().st_size
        if size > limit:
            raise TooLargeError(size, limit)
        data = fh.read(limit + 1)  # the file may grow between stat and read
    if len(data) > limit:
        raise TooLargeError(len(data), limit)
    return data.decode(encoding)


_MERGE_TAG = "tag:yaml.org,2002:merge"


class InputLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a key repeated in one mapping (through
    ``construct_mapping``, PyYAML's documented point for changing how mappings are built)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue  # a list or mapping as a key (PyYAML refuses it), or a '<<' merge
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue
            line = key_node.start_mark.line + 1
            if key in seen:
                raise YamlRefused(
                    f"the key '{key}' appears twice, on lines {seen[key]} and {line}; "
                    "YAML would keep only the second silently",
                    f"keep one '{key}:' (merge the two if both hold something needed)",
                    line,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _self_reference(node: Node) -> YamlRefused:
    line = node.start_mark.line + 1
    return YamlRefused(
        f"the alias (*name) at line {line} refers to the list or mapping it is inside",
        "write the values out in full instead of with '&name' and '*name'",
        line,
    )


def _expanded_size(root: Node, limit: int) -> int:
    """How many values ``root`` stands for with every alias expanded, counted on the composed
    nodes (an alias is the same node object met again) without expanding anything; stops
    counting past ``limit``. YamlRefused when a node contains itself."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    # Iterative post-order walk: a deeply nested document must not hit Python's recursion limit.
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        if children_done:
            open_nodes.discard(key)
            sizes[key] = min(limit + 1, 1 + sum(sizes[id(c)] for c in children))
            continue
        if key in open_nodes:
            raise _self_reference(node)
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise _self_reference(child)
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def load_yaml(text: str) -> Any:
    """``text`` read as YAML by :class:`InputLoader`, its expanded size checked first.
    Raises yaml.YAMLError for malformed YAML and YamlRefused for what is refused."""
    loader = InputLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, MAX_YAML_VALUES) > MAX_YAML_VALUES:
            raise YamlRefused(
                f"its aliases (*name) make it stand for more than {MAX_YAML_VALUES:,} values",
                "write the values out in full instead of repeating them with '&name' and '*name'",
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


__all__ = [
    "MAX_CSV_BYTES",
    "MAX_YAML_BYTES",
    "MAX_YAML_VALUES",
    "InputLoader",
    "TooLargeError",
    "YamlRefused",
    "load_yaml",
    "read_capped",
    "too_large_rule",
]
