"""Every realistic mistake of the corpus (``cases.py``) read through ``read_table``: a correct
table, or one line naming the file, the spreadsheet row and column, and the fix."""

from __future__ import annotations

import pytest

from physics.errors import DataError
from physics.table import read_table, table_notes
from tests.physics.table.cases import Case, table_cases

CASES = table_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_case_reads_correctly_or_fails_in_one_line(case: Case, tmp_path):
    path = case.write(tmp_path)
    if case.expect:
        with pytest.raises(DataError) as info:
            read_table(path)
        message = str(info.value)
        assert "\n" not in message
        assert message.startswith(case.file_name), message
        missing = [p for p in case.expect if p not in message]
        assert not missing, f"{missing} not in: {message}"
    else:
        table = read_table(path)
        assert case.check is not None
        case.check(table)
        notes = " | ".join(table_notes(table))
        missing = [n for n in case.notes if n not in notes]
        assert not missing, f"{missing} not in the notes: {notes}"


def test_the_corpus_has_both_kinds():
    errors = [c for c in CASES if c.expect]
    assert len(errors) >= 30 and len(CASES) - len(errors) >= 15
