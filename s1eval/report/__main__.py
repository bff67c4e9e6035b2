"""`python -m s1eval.report RUN_DIR...`"""

from s1eval.report.cli import report_command

if __name__ == "__main__":
    report_command(prog_name="python -m s1eval.report")
