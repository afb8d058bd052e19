#!/usr/bin/env python3
"""Independent verifier for Scellé dossiers (docs/FORMAT.md), written from the format alone.

Uses only the Python standard library and the `cryptography` package (Ed25519).
Usage: verify_dossier.py DOSSIER --trusted-key KEY [--trusted-key KEY...] [--file PATH...]
       [--known-checkpoint FILE] [--json]
Exit status: 0 everything holds, 3 findings, 2 unreadable input.
"""
import argparse, base64, hashlib, hmac, json, os, sys, unicodedata
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MANIFEST_HEADER = "scelle-dossier/1 manifest"
U64 = 2**64 - 1
MAX_DEPTH = 64
H = lambda data: hashlib.sha256(data).digest()
node = lambda left, right: H(b"\x01" + left + right)

class Unreadable(ValueError):
    """Input that is not a dossier of this format at all: exit 2, as `scelle verify`."""

def b64d(s):
    """Canonical standard base64 (padding as written by an encoder, no other character)."""
    if not isinstance(s, str) or not s.isascii():
        raise ValueError("not base64")
    raw = base64.b64decode(s, validate=True)
    if base64.b64encode(raw).decode() != s:
        raise ValueError("not canonical base64")
    return raw

def b64_hash(s):
    """A 32-byte hash in base64, or None."""
    try:
        raw = b64d(s)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None

def unhex(s):
    """Lowercase hex, as everywhere in the format; None otherwise."""
    return bytes.fromhex(s) if len(s) % 2 == 0 and set(s) <= set("0123456789abcdef") else None

def decimal(s):
    """An unsigned decimal without sign or leading zero that fits 64 bits, or None."""
    if not s or not s.isascii() or not s.isdigit() or (len(s) > 1 and s[0] == "0") or int(s) > U64:
        return None
    return int(s)

def strict_json(data):
    """RFC 8259 JSON as both verifiers read it (docs/FORMAT.md §4): UTF-8 without a byte order
    mark, no duplicate member, no number but an integer in [-2^63, 2^64-1], no lone surrogate,
    nested at most 64 deep."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise Unreadable("byte order mark")
    def members(pairs):
        obj = {}
        for k, v in pairs:
            if k in obj:
                raise Unreadable(f"duplicate member {k!r}")
            obj[k] = v
        return obj
    def integer(text):
        if text == "-0":
            raise Unreadable("-0 is not an integer")
        n = int(text)
        if not -(2**63) <= n <= U64:
            raise Unreadable("integer out of range")
        return n
    def refuse(text):
        raise Unreadable(f"not an integer: {text}")
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=members, parse_int=integer,
                           parse_float=refuse, parse_constant=refuse)
    except RecursionError:
        raise Unreadable("nested too deep")
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, (dict, list)):
            if depth > MAX_DEPTH:
                raise Unreadable("nested too deep")
            for k, child in (v.items() if isinstance(v, dict) else enumerate(v)):
                if isinstance(k, str):
                    k.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError (a ValueError)
                stack.append((child, depth + 1))
        elif isinstance(v, str):
            v.encode("utf-8")
    return value

def is_u64(v):
    return type(v) is int and 0 <= v <= U64

def fields(obj, required, optional=(), where="dossier"):
    """An object with exactly these members (the optional ones may be absent)."""
    if not isinstance(obj, dict):
        raise Unreadable(f"{where} is not an object")
    missing, extra = set(required) - obj.keys(), obj.keys() - set(required) - set(optional)
    if missing or extra:
        raise Unreadable(f"{where}: missing {sorted(missing)}, unknown {sorted(extra)}")
    return obj

def dossier_shape(d):
    """The dossier's members and their types, as the verifier crate's reader demands."""
    fields(d, ("format", "origin", "verifier_key", "checkpoint", "manifest", "case", "entries"),
           ("openings", "consistency"))
    strings = lambda *vs: all(isinstance(v, str) for v in vs)
    if not strings(d["format"], d["origin"], d["verifier_key"], d["checkpoint"], d["manifest"]):
        raise Unreadable("a member is not a string")
    fields(d["case"], ("id", "reference"), where="case")
    if not strings(d["case"]["id"], d["case"]["reference"]) or not isinstance(d["entries"], list):
        raise Unreadable("case or entries")
    for e in d["entries"]:
        fields(e, ("seq", "entry", "leaf_hash", "inclusion_proof"), where="entry")
        if not (is_u64(e["seq"]) and strings(e["entry"], e["leaf_hash"])
                and isinstance(e["inclusion_proof"], list) and strings(*e["inclusion_proof"])):
            raise Unreadable("entry member types")
    if not isinstance(d.get("openings", []), list):
        raise Unreadable("openings")
    for o in d.get("openings", []):
        fields(o, ("record", "salt", "value"), where="opening")
        if not strings(o["record"], o["salt"]):
            raise Unreadable("opening member types")
    c = d.get("consistency")
    if c is not None:
        fields(c, ("checkpoint", "proof"), where="consistency")
        if not (isinstance(c["checkpoint"], str) and isinstance(c["proof"], list) and strings(*c["proof"])):
            raise Unreadable("consistency member types")

# The entry format (docs/FORMAT.md §1): each event member's fields. A type is a Python type, a
# set of allowed strings, a nested dict, a list [type], or ("opt", type) — absent or null — or
# ("default", type) — absent, but not null.
STATES = {"BJ", "BF", "CI", "NE", "TG"}
ROLES = {"investigator", "prosecutor", "lab_analyst", "auditor", "admin", "dpo"}
PURPOSES = {"investigation", "prosecution", "prevention", "forensic_analysis", "oversight"}
CUSTODY_TYPES = {"sealed", "acquired", "copied", "transferred", "transfer_cancelled", "received",
                 "stored", "examined",
                 "integrity_checked", "shared_externally", "preservation_requested", "returned",
                 "destroyed", "corrected"}
EVIDENCE_KINDS = {"device", "storage_medium", "forensic_image", "file", "memory_capture",
                  "cloud_export", "document", "other"}
U = "u64"
COMMITMENT = {"record": str, "hmac": str}
REASON = "reason"
opt, default = (lambda t: ("opt", t)), (lambda t: ("default", t))
EVENT_MEMBERS = {
    "agency": {"id": str, "state": STATES, "name": str, "lab": default(bool)},
    "user": {"id": str, "role": ROLES, "agency": str},
    "case": {"id": str, "reference": str, "jurisdiction": STATES, "offence": str, "legal_basis": str,
             "agency": str, "officer": str, "title": opt(COMMITMENT), "jurisdiction_basis": opt(COMMITMENT)},
    "evidence": {"id": str, "case": str, "exhibit_number": str, "seal_number": str, "kind": EVIDENCE_KINDS,
                 "hashes": {"sha256": str, "sha512": opt(str), "sha1": opt(str), "md5": opt(str)},
                 "size_bytes": opt(U), "collected_at": str, "collector": str, "description": opt(COMMITMENT),
                 "location": opt(COMMITMENT), "parent": opt(str),
                 "acquisition": opt({"tool": str, "version": opt(str), "settings": opt(str)})},
    "custody": {"id": str, "item": str, "case": str, "type": CUSTODY_TYPES, "at": str,
                "place": opt(COMMITMENT), "reason": opt(COMMITMENT), "tool": opt(str),
                "authorization": opt(str), "to_user": opt(str), "seal_intact": opt(bool),
                "sha256": opt(str), "result": opt({"match", "mismatch"}), "amends": opt(str),
                "derived_item": opt(str)},
    "erasure": {"record": str, "legal_reason": REASON},
    "disclosure": {"id": str, "case": str, "agency": opt(str), "state": opt(STATES),
                   "handling": [{"H0", "H1", "H2", "H3"}], "purposes": [PURPOSES], "confidential": bool,
                   "consent_for_court": bool, "expires": str, "legal_basis": opt(str),
                   "conditions": opt(COMMITMENT)},
    "revocation": {"share": str, "case": str, "reason": REASON},
    "person": {"id": str, "case": str, "data": COMMITMENT},
    "access": {"action": str, "resource": str, "case": opt(str), "purpose": opt(PURPOSES),
               "decision": {"allowed", "denied"}, "policies": [str], "repeated": opt(U)},
    "dossier": {"case": str, "purpose": opt(PURPOSES), "personal_data": default(bool),
                "to": opt(str)},
    "peer": {"log": str, "seen": {"split_view"}, "cosigned": str, "offered": str,
             "proof": default([str])},
    "exchange": {"transfer": str, "peer": str, "case": str, "share": str, "manifest": str,
                 "tree_size": U, "root": str, "receipt": opt({"leaf": str, "seq": U}),
                 "refused": opt(str)},
}
KIND_MEMBER = {"agency.registered": "agency", "user.registered": "user", "case.opened": "case",
               "evidence.registered": "evidence", "vault.erased": "erasure", "case.shared": "disclosure",
               "case.share_revoked": "revocation", "person.recorded": "person",
               "access.allowed": "access", "access.denied": "access", "dossier.issued": "dossier",
               "peer.misbehaved": "peer", "dossier.sent": "exchange",
               "dossier.received": "exchange", "dossier.refused": "exchange"}

EXCHANGE_KINDS = ("dossier.sent", "dossier.received", "dossier.refused")
# Whether each exchange kind carries the receiver's receipt, and a refusal's reason.
EXCHANGE_KINDS_SHAPE = {"dossier.sent": (True, False), "dossier.received": (False, False),
                        "dossier.refused": (False, True)}

def typed(v, t):
    """Whether `v` is of the entry-format type `t` (see EVENT_MEMBERS)."""
    if t is U:
        return is_u64(v)
    if t is REASON:
        return isinstance(v, str) or typed(v, COMMITMENT)
    if isinstance(t, type):
        return type(v) is t
    if isinstance(t, set):
        return isinstance(v, str) and v in t
    if isinstance(t, list):
        return isinstance(v, list) and all(typed(x, t[0]) for x in v)
    if isinstance(t, dict):
        if not isinstance(v, dict) or v.keys() - t.keys():
            return False
        for name, ft in t.items():
            if isinstance(ft, tuple):
                if name in v and not ((ft[0] == "opt" and v[name] is None) or typed(v[name], ft[1])):
                    return False
            elif name not in v or not typed(v[name], ft):
                return False
        return True
    return False

def lower_hash(s):
    return isinstance(s, str) and len(s) == 64 and unhex(s) is not None

def parse_entry(raw):
    """The entry, if `raw` is one in canonical form of a known version, kind and shape (the
    verifier crate's `Entry::parse`); raises ValueError otherwise."""
    entry = strict_json(raw)
    if jcs(entry) != raw or not isinstance(entry, dict):
        raise ValueError("not canonical")
    members = set(entry) & set(EVENT_MEMBERS)
    if set(entry) - members - {"v", "seq", "prev", "case_prev", "time", "origin", "actor", "kind"}:
        raise ValueError("unknown member")
    if not (all(k in entry for k in ("v", "seq", "prev", "time", "origin", "actor", "kind"))
            and is_u64(entry["v"]) and is_u64(entry["seq"]) and typed(entry["prev"], str)
            and typed(entry["time"], str) and typed(entry["origin"], str) and typed(entry["kind"], str)
            and typed(entry["actor"], {"user": str, "agency": str, "role": ROLES})):
        raise ValueError("malformed")
    link = entry.get("case_prev")
    if link is not None and not (typed(link, {"leaf": str, "seq": U}) and len(link) == 2 and lower_hash(link["leaf"])):
        raise ValueError("case_prev")
    if entry["v"] not in (1, 2) or not lower_hash(entry["prev"]) or len(members) != 1:
        raise ValueError("version, prev or event member")
    kind, (member,) = entry["kind"], members
    want = "custody" if kind.startswith("custody.") else KIND_MEMBER.get(kind)
    if want != member or not typed(entry[member], EVENT_MEMBERS[member]):
        raise ValueError("kind or event member")
    if kind in ("dossier.issued", "peer.misbehaved") + EXCHANGE_KINDS and entry["v"] < 2:
        raise ValueError(kind + " in format 1")
    if member == "access" and kind != "access." + entry[member]["decision"]:
        raise ValueError("access decision")
    if member == "custody" and kind != "custody." + entry[member]["type"]:
        raise ValueError("custody type")
    if member == "exchange":
        receipt, refused = entry[member].get("receipt"), entry[member].get("refused")
        if receipt is not None and not lower_hash(receipt["leaf"]):
            raise ValueError("receipt")
        if (receipt is not None, refused is not None) != EXCHANGE_KINDS_SHAPE[kind]:
            raise ValueError("receipt or refused")
    linked = member in ("evidence", "custody", "dossier") or kind == "dossier.sent"
    if (link is not None) != (entry["v"] >= 2 and linked):
        raise ValueError("case_prev")
    return entry

def parse_vkey(text, alg):
    """C2SP verifier key of signature type `alg`: name+hexid+base64(alg || 32-byte Ed25519 key)."""
    name, key_id, blob = text.strip().split("+", 2)
    raw = b64d(blob)
    if len(raw) != 33 or raw[0] != alg or H(name.encode() + b"\n" + raw)[:4].hex() != key_id:
        raise ValueError("bad verifier key" if alg == 1 else "bad witness key")
    return name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])

def parse_key(text):
    """A log's verifier key (type 0x01)."""
    return parse_vkey(text, 1)

def raw_key(key):
    """The 32 bytes of an Ed25519 public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)

def parse_cosigner_key(text):
    """A witness's key, C2SP tlog-cosignature v1 (type 0x04)."""
    return parse_vkey(text, 4)

def parse_policy(text):
    """C2SP tlog-policy, as strictly as scelle's: (logs, witnesses {name: key}, groups
    {name: (k, members)}, quorum name or None). Raises ValueError naming the line."""
    logs, witnesses, groups, quorum, seen_quorum, raws = [], {}, {}, None, False, set()
    for number, line in enumerate(text.split("\n"), 1):
        def bad(why):
            raise ValueError(f"policy line {number}: {why}")
        if any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in line):
            bad("forbidden character")
        # Words are separated by spaces and tabs only (any other blank is part of a word).
        words = [w for w in line.replace("\t", " ").split(" ") if w]
        if not words or words[0].startswith("#"):
            continue
        defined = lambda n: n == "none" or n in witnesses or n in groups
        if words[0] == "log" and len(words) in (2, 3):
            try:
                key = parse_key(words[1])
            except ValueError:
                bad("invalid verifier key")
            raw = raw_key(key[2])
            if ("log", raw) in raws:
                bad("duplicate key")
            raws.add(("log", raw))
            logs.append(key)
        elif words[0] == "witness" and len(words) in (3, 4):
            if defined(words[1]):
                bad("name already defined")
            try:
                key = parse_cosigner_key(words[2])
            except ValueError:
                bad("invalid verifier key")
            raw = raw_key(key[2])
            if ("witness", raw) in raws:
                bad("duplicate key")
            raws.add(("witness", raw))
            witnesses[words[1]] = key
        elif words[0] == "group" and len(words) >= 4:
            name, k, members = words[1], words[2], words[3:]
            if defined(name):
                bad("name already defined")
            if len(set(members)) != len(members):
                bad("member listed twice")
            if any(m == "none" or not defined(m) for m in members):
                bad("undefined name")
            k = (len(members) if k == "all" else 1 if k == "any"
                 else int(k) if k.isascii() and k.isdigit() else None)
            if k is None or not 1 <= k <= len(members):
                bad("invalid threshold")
            groups[name] = (k, members)
        elif words[0] == "quorum" and len(words) == 2:
            if seen_quorum:
                bad("second quorum line")
            seen_quorum = True
            if words[1] != "none" and not defined(words[1]):
                bad("undefined name")
            quorum = None if words[1] == "none" else words[1]
        elif words[0] in ("log", "witness", "group", "quorum"):
            bad("wrong number of arguments")
        else:
            bad("unknown keyword")
    if not seen_quorum:
        raise ValueError("the policy has no quorum line")
    return logs, witnesses, groups, quorum

def policy_cosigned(note, policy):
    """(names and times of the witnesses whose cosignatures verify, None) if the quorum is met;
    otherwise (None, the reason)."""
    _, witnesses, groups, quorum = policy
    parsed = parse_note(note)
    if parsed is None:
        return None, "malformed checkpoint"
    text, sigs = parsed
    cosigned = []
    for name, (key_name, key_id, key) in witnesses.items():
        found = [sig for n, i, sig in sigs if n == key_name and i == key_id]
        if not found:
            continue
        # Every line of a known witness must verify (a bad one fails the note).
        newest = None
        for sig in found:
            time = int.from_bytes(sig[:8], "big") if len(sig) == 72 else None
            try:
                if time is None or time > 2**63 - 1:
                    raise InvalidSignature()
                key.verify(sig[8:], f"cosignature/v1\ntime {time}\n{text}".encode())
            except InvalidSignature:
                return None, f"witness {name} has an invalid cosignature on the checkpoint"
            newest = time if newest is None else max(newest, time)
        cosigned.append((name, newest))
    names = {n for n, _ in cosigned}
    # Groups name only earlier definitions: decided once each, in order (dicts keep it).
    group_met = {}
    member_met = lambda m: (m in names) if m in witnesses else group_met[m]
    for name, (k, members) in groups.items():
        group_met[name] = sum(1 for m in members if member_met(m)) >= k
    if quorum is not None and not member_met(quorum):
        return None, "quorum not met: cosigned only by [" + ", ".join(n for n, _ in cosigned) + "]"
    return cosigned, None

def is_control(c):
    return unicodedata.category(c) == "Cc"

def parse_note(note):
    """C2SP signed note: (text, [(name, key id, signature)]), or None when malformed."""
    split = note.rfind("\n\n")
    if split < 0:
        return None
    text, block = note[: split + 1], note[split + 2 :]
    if (text.startswith("\n") or "\n\n" in text or any(is_control(c) and c != "\n" for c in text)
            or not block.endswith("\n")):
        return None
    sigs = []
    for line in block[:-1].split("\n"):
        if not line.startswith("\u2014 ") or " " not in line[2:]:
            return None
        name, sig = line[2:].split(" ", 1)
        if not name or "+" in name or any(c.isspace() or is_control(c) for c in name):
            return None
        try:
            blob = b64d(sig)
        except ValueError:
            return None
        if len(blob) < 5 or len(sigs) >= 100:
            return None
        sigs.append((name, blob[:4], blob[4:]))
    return (text, sigs) if sigs else None

def open_note(note, key):
    """(text, None) if `key` (name, id, public key) signed the note; else (None, "unsigned"
    when no signature names this key, "invalid" when the note is malformed or one does but does
    not verify)."""
    parsed = parse_note(note)
    if parsed is None:
        return None, "invalid"
    text, found = parsed[0], False
    for name, key_id, sig in parsed[1]:
        if name == key[0] and key_id == key[1]:
            found = True
            try:
                key[2].verify(sig, text.encode())
                return text, None
            except InvalidSignature:
                pass
    return None, "invalid" if found else "unsigned"

def checkpoint_body(text, origin):
    """(size, root) of a C2SP checkpoint text of `origin`, or None."""
    lines = text.split("\n")
    if len(lines) < 3 or not lines[0] or lines[0] != origin:
        return None
    size, root = decimal(lines[1]), b64_hash(lines[2])
    return None if size is None or root is None else (size, root)

def open_checkpoint(note, key, origin):
    """(size, root) if `key` signed a checkpoint of `origin`; else the reason, as open_note."""
    text, why = open_note(note, key)
    if text is None:
        return None, why
    body = checkpoint_body(text, origin)
    return (body, None) if body else (None, "invalid")

def manifest_body(text):
    """(origin, case, size, root, count, digest) of a manifest text, or None."""
    if not text.endswith("\n"):
        return None
    lines = text[:-1].split("\n")
    if len(lines) != 5 or lines[0] != MANIFEST_HEADER:
        return None
    parts = []
    for line, label in zip(lines[1:], ("origin ", "case ", "checkpoint ", "entries ")):
        if not line.startswith(label):
            return None
        parts.append(line[len(label):])
    pairs = [p.split(" ", 1) for p in parts[2:]]
    if any(len(p) != 2 for p in pairs):
        return None
    size, root, count, digest = decimal(pairs[0][0]), b64_hash(pairs[0][1]), decimal(pairs[1][0]), b64_hash(pairs[1][1])
    if None in (size, root, count, digest):
        return None
    return parts[0], parts[1], size, root, count, digest

def climb(fn, sn, fr, sr, path):
    """The walk shared by RFC 9162 inclusion (2.1.3.2, result sr) and consistency (2.1.4.2)."""
    for c in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return (fr, sr) if sn == 0 else None

def verify_inclusion(index, size, leaf, proof, root):
    return index < size and (climb(index, size - 1, leaf, leaf, proof) or (0, 0))[1] == root

def verify_consistency(m, n, old, new, proof):
    if m == n or m == 0:
        return not proof and (m == 0 or old == new)
    if m > n or not proof:
        return False
    proof = [old] + proof if m & (m - 1) == 0 else proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return climb(fn, sn, proof[0], proof[0], proof[1:]) == (old, new)

def jcs(value):
    """RFC 8785 for what entries hold (strings, integers, booleans, null, objects, arrays):
    members ordered by the UTF-16 code units of their names."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return b"{" + b",".join(jcs(k) + b":" + jcs(v) for k, v in items) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(jcs(v) for v in value) + b"]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).encode()
    if value is None or isinstance(value, (bool, int)):
        return json.dumps(value).encode()
    raise ValueError("not JCS")

def next_custody(state, kind, actor, to_user):
    """The custody state machine of docs/FORMAT.md: (new state, None) or (state, rule broken)."""
    holder, status, to = state
    if kind == "corrected":
        return (state, None) if actor == holder else (state, "not_holder")
    if status in ("destroyed", "returned"):
        return state, "after_destruction" if status == "destroyed" else "after_return"
    if status == "in_transit":
        if kind == "transfer_cancelled":
            return ((holder, "in_custody", None), None) if actor == holder else (state, "not_holder")
        if kind != "received":
            return state, "in_transit"
        return ((to, "in_custody", None), None) if actor == to else (state, "not_recipient")
    if kind in ("received", "transfer_cancelled"):
        return state, "no_pending_transfer"
    if actor != holder:
        return state, "not_holder"
    if kind == "transferred":
        if not to_user or to_user == holder:
            return state, "bad_recipient"
        return (holder, "in_transit", to_user), None
    if kind in ("returned", "destroyed"):
        return (holder, kind, None), None
    return state, None

CASE_MEMBER = {"case.opened": ("case", "id"), "evidence.registered": ("evidence", "case"),
               "dossier.issued": ("dossier", "case"), "dossier.sent": ("exchange", "case")}

def case_of(entry):
    """The case whose custody record the entry belongs to (docs/FORMAT.md, "The case's record")."""
    kind = entry.get("kind", "")
    member, field = ("custody", "case") if kind.startswith("custody.") else CASE_MEMBER.get(kind, (None, None))
    return (entry.get(member) or {}).get(field) if member else None

def verify(d, keys, files, known=None, policy=None):
    """The findings, and the dossier's "as of" (its own dossier.issued entry) when it has one.
    Given a peer policy, its logs are trusted keys too and the checkpoint must be cosigned by
    its quorum."""
    findings = []
    add = lambda code, **kw: findings.append(dict(code=code, **kw))
    if d["format"] != "scelle-dossier/1":
        add("unsupported_format")
        return findings, None
    if policy is not None:
        keys = list(keys) + policy[0]
    origin, case_id = d["origin"], d["case"]["id"]
    opened = [(k,) + open_checkpoint(d["checkpoint"], k, origin) for k in keys if k[0] == origin]
    good = [(k, body) for k, body, _ in opened if body is not None]
    if not good:
        invalid = any(why == "invalid" for _, _, why in opened)
        add("checkpoint_invalid" if invalid else "key_not_trusted")
        return findings, None
    key, (size, root) = good[0]
    if policy is not None:
        in_policy = any(k[0] == origin and raw_key(k[2]) == raw_key(key[2])
                        for k in policy[0])
        cosigned, why = policy_cosigned(d["checkpoint"], policy)
        if not in_policy:
            add("checkpoint_not_cosigned", reason="no log of the policy signed the checkpoint")
        elif cosigned is None:
            add("checkpoint_not_cosigned", reason=why)
    entries, leaves, last = [], [], None
    for e in d["entries"]:
        seq = e["seq"]
        try:
            raw = b64d(e["entry"])
        except ValueError:
            add("entry_undecodable", seq=seq)
            continue
        leaf = H(b"\x00" + raw)
        if b64_hash(e["leaf_hash"]) != leaf:
            add("leaf_hash_mismatch", seq=seq)
        proof = [b64_hash(p) for p in e["inclusion_proof"]]
        if None in proof or not verify_inclusion(seq, size, leaf, proof, root):
            add("inclusion_proof_fails", seq=seq)
        try:
            entry = parse_entry(raw)
            if entry["seq"] != seq:
                add("entry_malformed", seq=seq)
            if entry["origin"] != origin:
                add("entry_other_log", seq=seq)
        except ValueError:
            add("entry_malformed", seq=seq)
            entry = None
        if last is not None and seq <= last:
            add("entries_out_of_order", seq=seq)
        last = seq
        entries.append((seq, leaf, entry))
        leaves.append(seq.to_bytes(8, "big") + leaf)
    text = open_note(d["manifest"], key)[0]
    manifest = manifest_body(text) if text else None
    if manifest is None:
        add("manifest_invalid")
    else:
        m_origin, m_case, m_size, m_root, m_count, m_digest = manifest
        for what, mismatch in (("origin", m_origin != origin), ("case", m_case != case_id),
                               ("checkpoint", (m_size, m_root) != (size, root)),
                               ("entries", m_count != len(d["entries"]) or m_digest != H(b"".join(leaves)))):
            if mismatch:
                add("manifest_mismatch", what=what)
    by_seq = {seq: leaf for seq, leaf, _ in entries}
    for seq, _, entry in entries:
        if entry and seq >= 1 and seq - 1 in by_seq and entry["prev"] != by_seq[seq - 1].hex():
            add("prev_link_broken", seq=seq)
    # The case's custody record: from format 2 on each entry of it but the opening links to the
    # one before (case_prev); the last is the dossier's own dossier.issued.
    newest, linked, last_entry, as_of = None, False, None, None
    for seq, leaf, entry in entries:
        if entry is None or case_of(entry) != case_id:
            continue
        if entry.get("v") == 2 and entry["kind"] != "case.opened":
            linked = True
            want = None if newest is None else {"leaf": newest[1].hex(), "seq": newest[0]}
            if entry.get("case_prev") != want:
                add("case_chain_broken", seq=seq)
        newest, last_entry = (seq, leaf), (seq, entry)
    if last_entry and last_entry[1]["kind"] == "dossier.issued":
        as_of = {"seq": last_entry[0], "time": last_entry[1]["time"], "tree_size": size}
    elif linked:
        add("dossier_not_issued")
    items, event_items, commitments, case_found = {}, {}, {}, False
    note = lambda c: c and commitments.__setitem__(c["record"], c["hmac"])
    for seq, _, entry in entries:
        if entry is None:
            continue
        kind, actor = entry["kind"], entry["actor"]["user"]
        body = entry.get(kind.split(".")[0], {})
        if kind == "case.opened" and body.get("id") == case_id:
            if case_found:
                add("case_opened_twice", seq=seq)
                continue
            case_found = True
            note(body.get("title")), note(body.get("jurisdiction_basis"))
            if body.get("reference") != d["case"]["reference"]:
                add("case_reference_mismatch")
        elif kind == "evidence.registered" and body.get("case") == case_id:
            if body["id"] in items:
                add("item_registered_twice", seq=seq)
                continue
            note(body.get("description")), note(body.get("location"))
            if body.get("parent") and body["parent"] not in items:
                add("unknown_item", seq=seq)
            items[body["id"]] = [(actor, "in_custody", None), True, body["hashes"]["sha256"]]
        elif kind.startswith("custody.") and body.get("case") == case_id:
            note(body.get("place")), note(body.get("reason"))
            item = items.get(body["item"])
            if item is None:
                add("unknown_item", seq=seq)
                continue
            if body.get("amends") and event_items.get(body["amends"]) != body["item"]:
                add("amends_unknown_event", seq=seq)
            event_items[body["id"]] = body["item"]
            if body.get("sha256") is not None and body.get("result") != ("match" if body["sha256"] == item[2] else "mismatch"):
                add("integrity_result_wrong", seq=seq)
            if item[1]:
                state, broken = next_custody(item[0], body["type"], actor, body.get("to_user"))
                if broken:
                    item[1] = False
                    add("custody_violation", seq=seq, rule=broken)
                item[0] = state
        elif kind in ("dossier.issued", "dossier.sent") and case_of(entry) == case_id:
            pass
        else:
            add("foreign_entry", seq=seq)
    if not case_found:
        add("case_missing")
    for o in d.get("openings", []):
        if o["record"] not in commitments:
            add("opening_unknown", record=o["record"])
            continue
        mac = hmac.new(unhex(o["salt"]) or b"", jcs(o["value"]), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, commitments[o["record"]]):
            add("opening_fails", record=o["record"])
    proved_from = None
    if d.get("consistency") is not None:
        old = open_checkpoint(d["consistency"]["checkpoint"], key, origin)[0]
        proof = [b64_hash(p) for p in d["consistency"]["proof"]]
        if not old or None in proof or not verify_consistency(old[0], size, old[1], root, proof):
            add("consistency_fails")
        else:
            proved_from = old
    if known is not None:
        held = open_checkpoint(known, key, origin)[0]
        if not held:
            add("known_checkpoint_invalid")
        elif held[0] > size:
            add("older_than_known_checkpoint")
        elif held[0] == size:
            if held[1] != root:
                add("known_checkpoint_invalid")
        elif proved_from != held:
            add("known_checkpoint_not_proven")
    registered = {item[2] for item in items.values()}
    for path in files:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256")
        if digest.hexdigest() not in registered:
            add("file_not_registered", file=path)
    return findings, as_of

def check_path(path, keys, files, known=None, policy=None):
    """What the command line does for one dossier: (exit status, findings, as of) — or, when
    the file is unreadable (exit status 2), no findings and the reason in place of "as of"."""
    try:
        with open(path, "rb") as f:
            d = strict_json(f.read())
        dossier_shape(d)
        findings, as_of = verify(d, keys, files, known, policy)
    except (OSError, ValueError, RecursionError) as e:
        return 2, [], str(e)
    return (0 if not findings else 3), findings, as_of

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dossier")
    p.add_argument("--trusted-key", action="append", default=[])
    p.add_argument("--file", action="append", default=[])
    p.add_argument("--known-checkpoint")
    p.add_argument("--policy")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    try:
        keys = [parse_key(open(k).read() if os.path.isfile(k) else k) for k in args.trusted_key]
        known = open(args.known_checkpoint).read() if args.known_checkpoint else None
        # Read as bytes, decoded strictly: no newline translation (a CR is a forbidden character).
        policy = parse_policy(open(args.policy, "rb").read().decode("utf-8")) if args.policy else None
    except (OSError, ValueError) as e:
        print(f"illisible / unreadable: {e}", file=sys.stderr)
        return 2
    code, findings, as_of = check_path(args.dossier, keys, args.file, known, policy)
    if code == 2:
        print(f"illisible / unreadable: {as_of}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"ok": not findings, "as_of": as_of, "findings": findings}, indent=2))
    else:
        if as_of:
            print(f"ÉTAT AU / AS OF {as_of['time']} (seq {as_of['seq']}, {as_of['tree_size']} entries)")
        for f in findings:
            print("FINDING", json.dumps(f))
        print("VERIFIED / VÉRIFIÉ" if not findings else "FAILED / ÉCHEC")
    return code

if __name__ == "__main__":
    sys.exit(main())
