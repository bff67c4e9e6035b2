"""lm-evaluation-harness integration: s1_* models, s1_* tasks (tasks/lm_eval/), registration, `s1eval lm-eval`.

From Python: `from s1eval.integrations.lm_eval.register import register; register()` before
`lm_eval.simple_evaluate(model="s1_bf", tasks=["s1_aime24"], ...)`. From the shell: `s1eval lm-eval ...`
(lm-eval's own arguments), or `s1eval lm-eval-hook install` once for the bare `lm_eval` command.
Importing this package is cheap on purpose: the opt-in .pth import hook imports it at every interpreter start.
"""
