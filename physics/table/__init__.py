"""The measurement table, version 1: the one tabular form of measured data.

One row per sample; an empty cell means "not measured". Columns and units follow
``domain.md`` (:data:`physics.schema.MEASUREMENT_COLUMNS`).

- :func:`read_table` reads a file as spreadsheets export it (separator, decimal comma,
  encoding, units row, padded headers: :mod:`physics.table.dialect`) and validates it;
- :func:`validate_table` is the one gate every table passes, from a file or from the campaign
  loop: it refuses what a scientist would not want silently accepted (unit mix-ups, kelvin,
  percent, a zero dwell, a row out of family, swapped columns, duplicates) with one line naming
  the file, the spreadsheet row and column, and the fix (:mod:`physics.table.checks`);
- :func:`write_table` writes a validated table in canonical column order.
"""

from physics.table.core import (
    empty_table,
    read_table,
    table_notes,
    validate_row,
    validate_table,
    write_table,
)
from physics.table.dialect import read_raw_table

__all__ = [
    "empty_table",
    "read_raw_table",
    "read_table",
    "table_notes",
    "validate_row",
    "validate_table",
    "write_table",
]
