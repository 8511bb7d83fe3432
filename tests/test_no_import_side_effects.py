"""Importing tunetext leaves the process as it was; the `tunetext` command sets its own environment."""

import os
import subprocess
import sys

import pytest

from tunetext.cli import CLI_ENVIRONMENT, main

# torch, transformers and scikit-learn (which sets KMP_* variables) are imported first: their own import
# effects are not tunetext's.
CHECK = """
import os, sklearn, torch, transformers
from transformers.utils import logging
before = dict(os.environ), logging.get_verbosity(), logging.is_progress_bar_enabled()
import tunetext, tunetext.api, tunetext.encoders, tunetext.methods, tunetext.cli.commands
after = dict(os.environ), logging.get_verbosity(), logging.is_progress_bar_enabled()
assert after == before, set(after[0].items()) ^ set(before[0].items())
"""


def test_importing_the_package_changes_no_environment_or_logging():
    env = {name: value for name, value in os.environ.items() if name not in CLI_ENVIRONMENT}
    result = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_loading_a_model_restores_the_callers_transformers_settings(tiny_bert_path):
    from transformers.utils import logging

    from tunetext.encoders import load_encoder, load_tokenizer

    logging.set_verbosity_info()
    bars = logging.is_progress_bar_enabled()
    try:
        load_encoder(tiny_bert_path), load_tokenizer(tiny_bert_path)
        assert logging.get_verbosity() == logging.INFO and logging.is_progress_bar_enabled() == bars
    finally:
        logging.set_verbosity_warning()


def test_the_command_sets_its_environment_unless_already_set(monkeypatch):
    for name in CLI_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    monkeypatch.setattr(sys, "argv", ["tunetext", "--help"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 0
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"  # the user's choice wins
    assert {name: os.environ[name] for name in CLI_ENVIRONMENT if name != "OMP_WAIT_POLICY"} == {
        name: value for name, value in CLI_ENVIRONMENT.items() if name != "OMP_WAIT_POLICY"}
