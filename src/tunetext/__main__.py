"""`python -m tunetext ...`: the command line without the console script (e.g. under `torchrun --module`)."""

from tunetext.cli import main

main()
