"""On the PYTHONPATH of lm-eval's `--model hf` subprocess (benchmarks/lm_eval_peer.py only): logs how many
tokens each of its `generate` calls made (rows x new columns), so hf's token count is measured, not assumed.

lm-eval's samples log keeps only decoded text, which a random model's tokens do not survive (re-encoding it
counts more tokens than were generated). Being first on that process's path, it stands in for any other
`sitecustomize` there (Python imports only the first it finds); if it failed to load, no log would be written
and the benchmark's check of the count fails.
"""

import json
import os

_LOG = os.environ.get("S1EVAL_HF_TOKEN_LOG")
if _LOG:
    from lm_eval.models.huggingface import HFLM

    _model_generate = HFLM._model_generate

    def _counted(self, context, *args, **kwargs):
        out = _model_generate(self, context, *args, **kwargs)
        record = {"rows": int(context.shape[0]), "new_columns": int(out.shape[1] - context.shape[1])}
        with open(_LOG, "a") as log:
            log.write(json.dumps(record) + "\n")
        return out

    HFLM._model_generate = _counted
