"""The CLI's own contract: usage mistakes are one line with exit code 2, logging goes to stderr."""

from __future__ import annotations

import logging

import pytest

from design.cli.app import configure_logging, main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["suggest", "--data", "t.csv", "--batchh", "3"], "No such option: --batchh"),
        (["suggest"], "Missing option '--data'"),
        (["campaign", "export"], "Missing argument"),
        (["suggest", "--data", "t.csv", "--batch", "many"], "Invalid value for '--batch'"),
        (["no-such-command"], "No such command"),
    ],
)
def test_usage_mistakes_are_one_line_exit_2(capsys, argv, message):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert "--help" in err and "Traceback" not in err


def test_no_arguments_prints_the_help(capsys):
    main([])
    out = capsys.readouterr()
    assert "suggest" in out.out + out.err and "campaign" in out.out + out.err


def test_library_warnings_reach_stderr_as_one_plain_line(capsys):
    configure_logging()
    logging.getLogger("design.tracking.campaign").warning("MLflow logging failed (x); will retry")
    logging.getLogger("design.tracking.campaign").info("not shown at the default level")
    err = capsys.readouterr().err
    assert err == "warning: MLflow logging failed (x); will retry\n"
