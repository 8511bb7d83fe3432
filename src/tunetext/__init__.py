"""tunetext: fine-tune transformer encoders for text classification, and measure what it buys."""

__version__ = "0.1.0"
