"""lm-eval's request cache (`--use_cache`), kept apart per s1eval run identity.

lm-eval's `CachingLM` stores responses in one `SqliteDict` keyed by (request type, prompt, gen_kwargs) and
hands that same object to the model's cache hook. Pointing it at a table named by the model's identity makes
every lookup and write of this run go to that table: runs with other budgets or settings share the file but
never each other's answers. `SqliteDict` builds each statement from its `tablename` attribute at call time
(sqlitedict 2.x); `tests/integrations/lm_eval/test_lm_eval_cache.py` reruns at another budget to hold that.
"""

from __future__ import annotations

from typing import Any


def namespace_cache(dbdict: Any, table: str) -> None:
    """Make `dbdict` (lm-eval's SqliteDict) read and write the table `table` from now on."""
    from sqlitedict import SqliteDict

    if not isinstance(dbdict, SqliteDict) or dbdict.tablename == table:
        return
    SqliteDict(dbdict.filename, tablename=table, autocommit=True).close()  # creates the table
    dbdict.tablename = table
