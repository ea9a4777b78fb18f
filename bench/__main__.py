"""Run every benchmark: `python -m bench` (or `make bench`). Each module under `bench/` with a
`main()` prints its own figures as ratios against a baseline measured in the same run."""

import importlib
import pkgutil
import sys

import bench


def main() -> None:
    wanted = set(sys.argv[1:])
    for info in pkgutil.iter_modules(bench.__path__):
        if info.name.startswith("_") or (wanted and info.name not in wanted):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if hasattr(module, "main"):
            print(f"== {info.name}", flush=True)
            sys.argv = [f"bench.{info.name}"]  # each benchmark parses its own options
            module.main()


if __name__ == "__main__":
    main()
