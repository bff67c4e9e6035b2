"""s1eval's lm-eval tasks (YAML + utils.py); found by lm-eval through s1eval's import hook or --include_path."""
