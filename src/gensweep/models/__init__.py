"""Models: one module and one YAML (conf/model/<name>.yaml, `model._target_`) each."""
