"""`python -m bot.telegram`: the same options and behaviour as `persona-bot run`."""

import argparse
import sys

from bot.telegram.app import add_run_arguments, run_from_args


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.telegram", description="Run the persona-bot Telegram bot.")
    add_run_arguments(parser)
    return run_from_args(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
