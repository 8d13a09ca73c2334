"""A loaded claim is a compact record that reads, compares and serialises like the document.

``RemoteAddressClaim`` is what a config holds by the thousand: a slotted record whose equal
parts (capture and delivery blocks, domain) are shared between the claims of one load, with
metadata kept only when it says more than the name. These tests would catch a claim that
grew back into a model tree, lost sharing, lost metadata, or no longer round-trips through
its document form.
"""

from __future__ import annotations

from bench.claims import Names, config_text
from routerd.core.loader import load_text
from routerd.core.resources import Interface, RemoteAddressClaim
from routerd.core.resources.hybrid import RemoteAddressClaimDocument
from routerd.providers import config_checks

NAMES = Names("ens19", "wg-sam")


def test_a_claim_is_a_compact_record_sharing_equal_parts() -> None:
    config = load_text(config_text("provider", 50, NAMES), extra_checks=[config_checks])
    claims = config.raise_for_errors().of(RemoteAddressClaim)
    first, last = claims[0], claims[-1]
    assert type(first) is RemoteAddressClaim and not hasattr(first, "__dict__")
    assert first.spec.capture is last.spec.capture
    assert first.spec.delivery is last.spec.delivery
    assert first.spec.domain_ref is last.spec.domain_ref
    assert first.meta is None and first.metadata.name == "c0"
    doc = first.to_doc()
    assert RemoteAddressClaim.model_validate(doc) == first
    assert isinstance(config.raise_for_errors().of(Interface)[0], Interface)


def test_a_claim_keeps_metadata_beyond_its_name() -> None:
    doc = load_text(config_text("provider", 1, NAMES)).raise_for_errors()
    claim = doc.of(RemoteAddressClaim)[0]
    labelled = claim.to_doc()
    labelled["metadata"]["labels"] = {"team": "net"}
    again = RemoteAddressClaim.model_validate(labelled)
    assert again.meta is not None and again.metadata.labels == {"team": "net"}
    assert again.to_doc() == labelled and again != claim
    assert again.model_copy(update={"metadata": claim.metadata}) == claim


def test_a_claim_serialises_exactly_as_its_document_model() -> None:
    # to_doc feeds the config digest and the API: a record that wrote a key the model omits
    # (or the reverse) would change every digest and every reload decision
    doc = load_text(config_text("proxy-arp", 2, NAMES)).raise_for_errors()
    for claim in doc.of(RemoteAddressClaim):
        written = claim.to_doc()
        written["metadata"]["annotations"] = {"a": "b"}
        for d in (claim.to_doc(), written):
            model = RemoteAddressClaimDocument.model_validate(d)
            assert RemoteAddressClaim.model_validate(d).to_doc() == model.to_doc() == d
