from __future__ import annotations

from pathlib import Path

import pytest

from charter import testing

# Hand-made rows; which ones hold personal data, and where, is written down in the tests.
CUSTOMERS = """\
id,name,email,notes,phone,city
1,ann,ann@example.org,call me at (212) 555-0100,555 0100,Paris
2,bob,bob@example.org,card 4111 1111 1111 1111,,Lyon
3,cy,,card 4111 1111 1111 1112 (typo),,Nice
4,dee,dee@example.org,write to dee@example.org,+44 20 7946 0958,Metz
5,eve,eve@example.org,,,Caen
"""

SPECS = """\
datasets:
  - name: customers
    description: One row per customer.
    owner: crm@example.org
    source: {path: data/customers.csv}
    primary_key: [id]
    columns:
      - {name: email, description: Contact address., tags: [pii.email]}
      - {name: notes, description: Free text typed by the call centre.}

metrics:
  - name: customer_count
    label: Customers
    type: simple
    dataset: customers
    measure: {agg: count}
"""


@pytest.fixture
def customers_csv() -> str:
    return CUSTOMERS


@pytest.fixture
def shop(tmp_path: Path):
    """Write the customers project, with extra spec text appended to its spec file."""

    def make(extra: str = "", files: dict[str, str] | None = None) -> Path:
        files = {"data/customers.csv": CUSTOMERS, "specs/customers.yaml": SPECS + extra, **(files or {})}
        return testing.write_project(tmp_path / "shop", files, name="shop")

    return make
