"""``python -m connector.sandbox.quickbooks [options]``: the same as ``connector sandbox quickbooks``."""

import typer

from connector.sandbox.quickbooks.cli import serve


def main() -> None:
    typer.run(serve)


if __name__ == "__main__":
    main()
