"""The quick validity answer of schema_check (`_valid`) never disagrees with
jsonschema: checked on every policy in the repository and on many mutations."""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest

from accord.dsl.loader import load_yaml, to_plain
from accord.dsl.schema_check import _valid, inlined_schema, validator

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p for p in [*ROOT.glob("examples/**/*.yaml"), *ROOT.glob("tests/**/*.yaml")]
               if "__snapshots__" not in p.parts)
ODD = [None, 0, 1, 1.0, 1.5, -1, "", "x", "1h", "75%", True, False, [], [1], ["a"], {}, {"x": 1}, {"name": "a"}]


def _plain(path: Path):
    try:
        root, _ = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except Exception:  # noqa: BLE001 - not a loadable policy
        return None
    return None if root is None else to_plain(root)


def _agree(instance) -> None:
    quick = _valid(inlined_schema(), instance)
    if quick is not None:
        assert quick == validator().is_valid(instance)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _set(doc, path, value):
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def _delete(doc, path):
    target = doc
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_quick_answer_agrees_with_jsonschema(path):
    doc = _plain(path)
    if doc is None:
        pytest.skip("not loadable")
    _agree(doc)
    rng = random.Random(str(path))
    paths = [p for p in _paths(doc) if p]
    for p in rng.sample(paths, min(len(paths), 60)):
        for value in rng.sample(ODD, 4):
            mutated = copy.deepcopy(doc)
            _set(mutated, p, value)
            _agree(mutated)
        mutated = copy.deepcopy(doc)
        _delete(mutated, p)
        _agree(mutated)
        if isinstance(p[-1], str):
            mutated = copy.deepcopy(doc)
            _set(mutated, (*p[:-1], p[-1] + "_x"), 1)
            _agree(mutated)


def test_quick_answer_on_valid_policies_skips_nothing():
    valid = [d for d in (_plain(p) for p in FILES) if d is not None and validator().is_valid(d)]
    assert valid
    assert all(_valid(inlined_schema(), d) is True for d in valid)
