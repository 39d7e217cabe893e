"""Every realistic mistake of the result corpus (``result_cases.py``) through ``analyze_result``:
one line naming the job, the measurement and the field, or a correct row with a note."""

from __future__ import annotations

import pytest

from physics.errors import AnalysisError
from physics.measurements.results import analyze_result
from tests.physics.measurements.result_cases import ResultCase, result_cases

CASES = result_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_case_is_analysed_correctly_or_refused_in_one_line(case: ResultCase):
    if case.expect:
        with pytest.raises(AnalysisError) as info:
            analyze_result(case.result())
        message = str(info.value)
        assert "\n" not in message
        assert message.startswith("job j-000042"), message
        missing = [p for p in case.expect if p not in message]
        assert not missing, f"{missing} not in: {message}"
        return
    analysis = analyze_result(case.result())
    assert case.row is not None
    for column, expected in case.row.items():
        got = analysis.row[column]
        if expected is None:
            assert got is None, f"{column} = {got}, expected empty"
        else:
            assert got == pytest.approx(expected, rel=0.01), column
    if case.note:
        assert any(case.note in n for n in analysis.notes), analysis.notes


def test_repeats_at_one_temperature_keep_every_fit():
    case = next(c for c in CASES if c.id == "three-blocking-spectra-all-labelled-25C")
    analysis = analyze_result(case.result())
    assert {"eis_blocking@25C", "eis_blocking@25C-2", "eis_blocking@25C-3"} <= set(analysis.fits)
    assert analysis.arrhenius is None


def test_the_corpus_has_both_kinds():
    errors = [c for c in CASES if c.expect]
    assert len(errors) >= 20 and len(CASES) - len(errors) >= 7
