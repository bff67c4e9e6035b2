"""`python -m s1eval.scoring.parse_worker`: the process that runs bounded parses for worker threads.

A module of our own rather than a multiprocessing `spawn` child, so the user's script (its `__main__`) is
never imported or re-executed here. It reads pickled (function, args) frames on stdin and answers on stdout.
"""

from __future__ import annotations

import sys

from s1eval.scoring.bounded import serve

if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
