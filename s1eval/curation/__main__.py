"""python -m s1eval.curation CONFIG [--out DIR] [--subset NAME]"""

from .cli import curate_command

if __name__ == "__main__":
    curate_command(prog_name="python -m s1eval.curation")
