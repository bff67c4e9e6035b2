"""Registry names that are `s1eval/<name>` however s1eval was found.

Inspect prefixes a decorated object's name with its package only when it believes the package is installed
(site-packages, or an editable install per its direct_url.json). Run from a source checkout (the checkout on
sys.path, a setuptools `s1eval.egg-info` beside it) that check fails and the names would be bare
(`budget_forcing`), so `s1eval/budget_forcing` would not resolve. Passing the prefixed name in that case
gives the same names everywhere.
"""

from __future__ import annotations

PACKAGE = "s1eval"


def qualified(name: str) -> str:
    """The name to give Inspect's decorators so the object registers as s1eval/<name>."""
    try:
        from inspect_ai._util.registry import registry_name
    except ImportError:  # a future Inspect without this helper: assume it prefixes installed packages
        return name
    return name if registry_name(qualified, name).startswith(f"{PACKAGE}/") else f"{PACKAGE}/{name}"


def namespaced(name: str) -> str:
    """`s1eval/<name>` in full, for Inspect decorators that register an explicit name verbatim.

    `@score_reducer(name=...)` does not prefix the package the way `@solver`, `@scorer`, `@metric` and
    `@modelapi` do, so `qualified` (which leaves the prefix to Inspect when s1eval looks installed) would
    register a bare `maj_at_k` in an installed s1eval.
    """
    return f"{PACKAGE}/{name}"
