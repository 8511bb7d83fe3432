"""tunetext: fine-tune transformer encoders for text classification, and measure what it buys.

What the command line does is in `tunetext.api` (train, tune, compare, export). Importing tunetext changes
no process state: the `tunetext` command sets its environment in `tunetext.cli.main`.
"""

__version__ = "0.1.0"
