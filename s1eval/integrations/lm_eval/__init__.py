"""lm-evaluation-harness integration: s1_* models, s1_* tasks (tasks/lm_eval/), registration, `s1eval lm-eval`.

From Python: `from s1eval.integrations.lm_eval.register import register; register()` before
`lm_eval.simple_evaluate(model="s1_bf", ...)` (the installed import hook usually did it already).
Importing this package is cheap on purpose: the .pth import hook imports it at every interpreter start.
"""
