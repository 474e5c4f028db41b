"""Fleet benchmark harness (``python bench/run.py``): this collection's playbooks against a naive baseline."""
