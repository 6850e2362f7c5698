"""Names from the Swedish eID framework that both the portal (SP) and the test IdP use.

Attribute names are from "Attribute Specification for the Swedish eID Framework", section 2.1;
status codes, binding processes and entity categories from "Registry for Identifiers", "Identity
Binding" and "Entity Categories for the Swedish eID Framework".
"""

from __future__ import annotations

from typing import Final

NAME_FORMAT_URI: Final = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

# --- Attributes (urn:oid names, with their friendly names) ---------------------------------------
PERSONAL_IDENTITY_NUMBER: Final = "urn:oid:1.2.752.29.4.13"
GIVEN_NAME: Final = "urn:oid:2.5.4.42"
SURNAME: Final = "urn:oid:2.5.4.4"
DISPLAY_NAME: Final = "urn:oid:2.16.840.1.113730.3.1.241"
DATE_OF_BIRTH: Final = "urn:oid:1.3.6.1.5.5.7.9.1"
COUNTRY: Final = "urn:oid:2.5.4.6"
PRID: Final = "urn:oid:1.2.752.201.3.4"
PRID_PERSISTENCE: Final = "urn:oid:1.2.752.201.3.5"
PERSONAL_IDENTITY_NUMBER_BINDING: Final = "urn:oid:1.2.752.201.3.6"
EIDAS_PERSON_IDENTIFIER: Final = "urn:oid:1.2.752.201.3.7"
MAPPED_PERSONAL_IDENTITY_NUMBER: Final = "urn:oid:1.2.752.201.3.16"
TRANSACTION_IDENTIFIER: Final = "urn:oid:1.2.752.201.3.2"

FRIENDLY_NAMES: Final[dict[str, str]] = {
    PERSONAL_IDENTITY_NUMBER: "personalIdentityNumber",
    GIVEN_NAME: "givenName",
    SURNAME: "sn",
    DISPLAY_NAME: "displayName",
    DATE_OF_BIRTH: "dateOfBirth",
    COUNTRY: "c",
    PRID: "prid",
    PRID_PERSISTENCE: "pridPersistence",
    PERSONAL_IDENTITY_NUMBER_BINDING: "personalIdentityNumberBinding",
    EIDAS_PERSON_IDENTIFIER: "eidasPersonIdentifier",
    MAPPED_PERSONAL_IDENTITY_NUMBER: "mappedPersonalIdentityNumber",
    TRANSACTION_IDENTIFIER: "transactionIdentifier",
}

#: What the portal asks for in its metadata (md:RequestedAttribute): (name, required). The entity
#: categories imply most of them; listing them tells an IdP exactly what is used.
REQUESTED_ATTRIBUTES: Final[tuple[tuple[str, bool], ...]] = (
    (PERSONAL_IDENTITY_NUMBER, False),
    (GIVEN_NAME, True),
    (SURNAME, True),
    (DISPLAY_NAME, False),
    (PRID, False),
    (PRID_PERSISTENCE, False),
    (EIDAS_PERSON_IDENTIFIER, False),
    (COUNTRY, False),
    (DATE_OF_BIRTH, False),
    (MAPPED_PERSONAL_IDENTITY_NUMBER, False),
    (PERSONAL_IDENTITY_NUMBER_BINDING, False),
)

# --- Status codes --------------------------------------------------------------------------------
STATUS_SUCCESS: Final = "urn:oasis:names:tc:SAML:2.0:status:Success"
STATUS_REQUESTER: Final = "urn:oasis:names:tc:SAML:2.0:status:Requester"
STATUS_RESPONDER: Final = "urn:oasis:names:tc:SAML:2.0:status:Responder"
STATUS_AUTHN_FAILED: Final = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
STATUS_NO_AUTHN_CONTEXT: Final = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
STATUS_REQUEST_DENIED: Final = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
#: Second-level status: the person cancelled (Deployment Profile, section 6.4).
STATUS_CANCEL: Final = "http://id.elegnamnden.se/status/1.0/cancel"
STATUS_FRAUD: Final = "http://id.elegnamnden.se/status/1.0/fraud"
STATUS_POSSIBLE_FRAUD: Final = "http://id.elegnamnden.se/status/1.0/possibleFraud"

# --- Identity binding processes of the eIDAS connector ("Identity Binding", section 3) ----------
BINDING_POPULATION_REGISTER: Final = (
    "http://id.swedenconnect.se/id-binding/process/populationregister"
)
BINDING_SWEDISH_EID: Final = "http://id.swedenconnect.se/id-binding/process/swedish-eid"

# --- Entity categories ---------------------------------------------------------------------------
ENTITY_CATEGORY: Final = "http://macedir.org/entity-category"
ASSURANCE_CERTIFICATION: Final = "urn:oasis:names:tc:SAML:attribute:assurance-certification"
EC_LOA3_PNR: Final = "http://id.elegnamnden.se/ec/1.0/loa3-pnr"
EC_LOA4_PNR: Final = "http://id.elegnamnden.se/ec/1.0/loa4-pnr"
EC_EIDAS_NATURAL_PERSON: Final = "http://id.elegnamnden.se/ec/1.0/eidas-naturalperson"
ST_PUBLIC_SECTOR_SP: Final = "http://id.elegnamnden.se/st/1.0/public-sector-sp"
CONTRACT_SWEDEN_CONNECT: Final = "http://id.swedenconnect.se/contract/sc/sweden-connect"
ACCEPTS_COORDINATION_NUMBER: Final = (
    "http://id.swedenconnect.se/general-ec/1.0/accepts-coordination-number"
)

# --- Algorithms (Deployment Profile, chapter 8) --------------------------------------------------
#: Signature and digest algorithms a signature of a message to the portal may use.
SIGNATURE_ALGORITHMS: Final = frozenset(
    {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
    }
)
DIGEST_ALGORITHMS: Final = frozenset(
    {
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    }
)
#: Block encryption of the assertion, and transport of its key.
BLOCK_ENCRYPTION_ALGORITHMS: Final = frozenset(
    {
        "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
        "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
        "http://www.w3.org/2009/xmlenc11#aes128-gcm",
        "http://www.w3.org/2009/xmlenc11#aes192-gcm",
        "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    }
)
KEY_TRANSPORT_ALGORITHMS: Final = frozenset(
    {
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
        "http://www.w3.org/2009/xmlenc11#rsa-oaep",
    }
)
RSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
AES256_CBC: Final = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
RSA_OAEP_MGF1P: Final = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
