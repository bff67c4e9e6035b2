"""The Inspect tasks, one module each: tasks/aime24.py, tasks/math500.py and tasks/gpqa.py in a checkout are links
to these files (`inspect eval tasks/gpqa.py`), and Inspect's entry point registers them as `s1eval/aime24`,
`s1eval/math500` and `s1eval/gpqa_diamond` for an installed package (`inspect eval s1eval/gpqa_diamond`).

Each task spells out its -T options in its own signature (Inspect reads them from there), so the three
functions stay explicit; everything they do is in `s1eval.integrations.inspect.tasks.benchmark_task`.
"""
