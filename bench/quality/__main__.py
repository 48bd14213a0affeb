"""Entry point for ``python -m bench.quality``."""

from bench.quality.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
