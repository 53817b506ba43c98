"""The wheel carries what the package reads at run time: the schema and the provider data with its licence.

Built from this checkout with hatchling (the build backend pyproject.toml names, installed by the test extra),
without build isolation so no download is needed.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (
    "validator/accounts.schema.json",
    "validator/data/providers.json",
    "validator/data/providers-overlay.json",
    "validator/data/LICENSE.ispdb",
)


def test_the_wheel_ships_the_schema_and_the_provider_data_with_its_licence(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run(
        [*command, "-w", str(tmp_path)],
        check=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("mailcfg-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert set(SHIPPED) <= names, sorted(set(SHIPPED) - names)
        assert archive.read("validator/data/providers.json") == (ROOT / "validator/data/providers.json").read_bytes()
        assert b"Mozilla Public License" in archive.read("validator/data/LICENSE.ispdb")
        assert b"Mozilla Public License" in archive.read("validator/data/providers.json")
