"""docs/install.md agrees with the chart: the Secrets it tells you to create are the ones the
pods read, and its bucket lifecycle rules are valid JSON with the documented periods."""

from __future__ import annotations

import json
import re

from chart_helpers import ROOT, Rendered, container_env

INSTALL_DOC = ROOT / "docs" / "install.md"


def created_secrets() -> dict[str, set[str]]:
    """Secret name -> keys, from the doc's `kubectl create secret generic` commands."""
    text = INSTALL_DOC.read_text(encoding="utf-8").replace("\\\n", " ")
    secrets: dict[str, set[str]] = {}
    for line in text.splitlines():
        match = re.search(r"^kubectl .*create secret generic (\S+)(.*)$", line.strip())
        if match:
            keys = set(re.findall(r"--from-(?:literal|file)=([A-Z_]+)=", match.group(2)))
            secrets.setdefault(match.group(1), set()).update(keys)
    return secrets


def test_documented_secrets_are_the_ones_the_pods_read(defaults: Rendered) -> None:
    documented = created_secrets()
    read: dict[str, set[str]] = {}
    for component in ("api", "operator"):
        deployment = defaults.one("Deployment", component)
        for value in container_env(
            deployment["spec"]["template"]["spec"]["containers"][0]
        ).values():
            if isinstance(value, dict) and "secretKeyRef" in value:
                ref = value["secretKeyRef"]
                read.setdefault(ref["name"], set()).add(ref["key"])
    for name, keys in read.items():
        assert keys <= documented.get(name, set()), name
    # The SMTP login is documented for relays that need one (smtp.existingSecret).
    assert documented["streamexport-smtp"] == {"SMTP_USERNAME", "SMTP_PASSWORD"}
    assert documented["streamexport-jwt"] == {"JWT_SECRET"}


def test_lifecycle_rules_expire_exports_and_abort_uploads() -> None:
    text = INSTALL_DOC.read_text(encoding="utf-8")
    [block] = re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)
    rules = {rule["ID"]: rule for rule in json.loads(block)["Rules"]}
    expire = rules["expire-exports-after-30-days"]
    assert expire["Filter"] == {"Prefix": "exports/"}
    assert expire["Expiration"] == {"Days": 30}
    abort = rules["abort-incomplete-multipart-uploads-after-1-day"]
    assert abort["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert all(rule["Status"] == "Enabled" for rule in rules.values())


def test_doc_upgrades_crds_before_the_release() -> None:
    text = INSTALL_DOC.read_text(encoding="utf-8")
    apply = text.index("\nkubectl apply -f charts/streamexport/crds/")
    assert apply < text.index("\nhelm upgrade ", apply)
