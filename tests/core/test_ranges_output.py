import io
import json

import numpy as np
import pandas as pd
import pytest

from raflab.core.output import write_records
from raflab.core.ranges import parse_range


def test_linspace_and_lists():
    np.testing.assert_allclose(parse_range("0.5:5:10"), np.linspace(0.5, 5, 10))
    assert parse_range("0,0.1,0.3").tolist() == [0.0, 0.1, 0.3]
    assert parse_range(" 2 ").tolist() == [2.0]


@pytest.mark.parametrize("text", ["1:2", "1:2:0", "1:2:2.5", "a,b", "", "1:2:3:4", "nan", "1,,2"])
def test_malformed_ranges(text):
    with pytest.raises(ValueError, match="malformed range for alpha"):
        parse_range(text, "alpha")


def test_json_records_turn_infinities_into_null_and_csv_roundtrips():
    df = pd.DataFrame({"alpha": [1.0, 2.0], "V": [np.inf, 0.5], "converged": [True, False]})
    buf = io.StringIO()
    write_records(df, "json", buf)
    recs = json.loads(buf.getvalue())
    assert recs == [{"alpha": 1.0, "V": None, "converged": True}, {"alpha": 2.0, "V": 0.5, "converged": False}]
    buf = io.StringIO()
    write_records(df, "csv", buf)
    back = pd.read_csv(io.StringIO(buf.getvalue()))
    assert back.alpha.tolist() == [1.0, 2.0]
