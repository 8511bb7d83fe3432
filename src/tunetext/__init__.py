"""tunetext: fine-tune transformer encoders for text classification, and measure what it buys."""

import os

# OpenMP threads that spin while waiting steal the CPU from every other process; on a shared or
# oversubscribed machine (2 cores, a server, a test run) that made training ~10x slower here.
# Set before torch is imported; export OMP_WAIT_POLICY=ACTIVE to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
