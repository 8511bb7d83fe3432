"""Each hyperparameter is defined once (its default), checked before any work, and documented where users look."""

import pytest
from typer.testing import CliRunner

from tunetext.methods import get_method_class, list_methods, make_method
from tunetext.methods.base import describe_params


@pytest.mark.parametrize("name", list_methods())
def test_every_parameter_is_documented_with_its_default(name):
    method_cls = get_method_class(name)
    described = describe_params(method_cls)
    undocumented = [param for param, _, doc in described if not doc]
    assert not undocumented, f"{name}: document {undocumented} in the class docstring's Parameters section"
    assert dict((param, default) for param, default, _ in described) == make_method(name).get_params()


def test_methods_command_shows_a_methods_parameters_defaults_and_docs():
    from tunetext.cli import app
    from tunetext.cli import commands  # noqa: F401  (registers the commands)

    result = CliRunner().invoke(app, ["methods", "finetune-partial"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "freeze_layers" in line)
    assert "'half'" in line and "Lower encoder layers kept frozen" in line  # its own default, the parent's doc
    assert "min_steps" in result.output and "100" in result.output
    result = CliRunner().invoke(app, ["methods", "svm"])
    assert result.exit_code != 0 and "unknown method 'svm'" in result.output
