"""The packaged Hydra configs (a package, so that Hydra finds them as ``pkg://sim.configs``).

A folder of your own is laid over them with ``python -m sim --config-dir my_configs`` or
``sim.load(..., config_dir="my_configs")``; see the README's "Configuration".
"""
