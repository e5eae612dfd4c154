"""Generated Qt forms and resources (see scripts/build_forms.py)."""
