"""``python -m connector.sandbox.xero [options]``: the same as ``connector sandbox xero``."""

import typer

from connector.sandbox.xero.cli import serve


def main() -> None:
    typer.run(serve)


if __name__ == "__main__":
    main()
